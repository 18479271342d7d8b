"""zscan-worker --keep-later-mb: the bars a scan needs and the cache
lacks are made for the scan alone and kept once the lane is idle, so that
a first scan does not wait for the memory keeping them takes.

One single-lane worker with nothing touched ahead (--prefault-mb 0) and a
broker; a first scan of 4,000 synthetic symbols (their closes: about
40 MB), then, once the lane has kept them, the same scan again.  Counted
from /proc and read from the worker's log:

- once idle, the lane says it kept the 4,000 symbols' bars it made for
  the first scan (a scan that kept its bars as it made them lists none),
  and the worker's resident memory has grown by at least 30 MB since
  before the scan;
- the second scan's results are the first's, bit for bit (score, price,
  values, signal), and it keeps nothing more (every symbol a cache hit:
  no line for it, under 2,000 faults);
- with --keep-later-mb 0 the same first scan keeps its bars as it makes
  them: it faults in their pages (at least 8,000 faults), and the lane
  keeps nothing later.
(Whether a scan's own page faults are fewer is not asserted: a lane
starts keeping 5 ms after its last task, while the scan's results may
still be travelling to this client; bench/cost and the README have the
times.)"""
import os
import re
import shutil
import tempfile
import time

from zsharness import (Cluster, Client, check, check_exactly_once,
                       faults_rss, log, split)

N = 4000
SANITIZED = bool(os.environ.get("ZS_SANITIZED"))


def kept(logfile, scan):
    """Symbols the worker's log says it kept once idle for scan."""
    total = 0
    with open(logfile, errors="replace") as f:
        for line in f:
            m = re.search(r"kept the bars of (\d+) symbols of scan (\S+) ",
                          line)
            if m and m.group(2) == scan:
                total += int(m.group(1))
    return total


def results(records):
    """symbol -> (status, signal, score, price, values) of a scan."""
    out = {}
    for r in split(records)[0]:
        out[r["symbol"]] = (r.get("status"), r.get("signal"), r.get("score"),
                            r.get("price"), r.get("values"))
    return out


def run(later_mb):
    logdir = tempfile.mkdtemp(prefix="zscan-keep-later-")
    try:
        cluster = Cluster(workers=1, threads=1,
                          worker_args=["--prefault-mb", "0",
                                       "--keep-later-mb", str(later_mb),
                                       "--log-level", "info"])
        cluster.logdir = logdir
        with cluster:
            client = Client(cluster)
            client.wait_ready()
            client.wait_workers(1)
            pid = cluster.workers["w1"].pid
            logfile = os.path.join(logdir, "worker-w1.log")
            def scan(name):
                """Its results, page faults, and resident KB before."""
                f0, r0 = faults_rss(pid)
                client.start_scan(name, universe="synthetic:%d" % N)
                records = client.records(timeout=120)
                check_exactly_once(records, N)
                return results(records), faults_rss(pid)[0] - f0, r0

            first, faults1, r0 = scan("first")
            # idle: the lane keeps what it made
            deadline = time.time() + 30
            while time.time() < deadline and kept(logfile, "first") < N \
                    and later_mb:
                time.sleep(0.05)
            second, faults3, r2 = scan("second")
            time.sleep(0.3)  # a keeping lane would say so by now
            client.close()
            return {"faults1": faults1, "faults3": faults3,
                    "grew_kb": r2 - r0, "kept1": kept(logfile, "first"),
                    "kept2": kept(logfile, "second"), "first": first,
                    "second": second}
    finally:
        shutil.rmtree(logdir, ignore_errors=True)


got = run(64)
log("kept later: first scan %d faults, kept %d symbols once idle (+%d KB), "
    "second scan %d faults, kept %d more"
    % (got["faults1"], got["kept1"], got["grew_kb"], got["faults3"],
       got["kept2"]))
check(got["kept1"] == N,
      "the lane says it kept %d of the first scan's %d symbols once idle"
      % (got["kept1"], N))
check(got["kept2"] == 0,
      "the second scan found every symbol kept, yet %d were made for it "
      "alone and kept after" % got["kept2"])
check(all(isinstance(v[4], dict) and v[4] and v[3] for v in
          got["first"].values()),
      "results without values or price: nothing to compare")
check(len(got["first"]) == N and got["first"] == got["second"],
      "the scan's results differ between made-for-the-scan bars and kept "
      "ones (%d of %d differ)"
      % (sum(1 for k, v in got["first"].items()
             if got["second"].get(k) != v), N))
if not SANITIZED:
    # (under AddressSanitizer its own allocator decides about pages)
    check(got["grew_kb"] >= 30 * 1024,
          "keeping 4,000 symbols' closes grew the worker by %d KB"
          % got["grew_kb"])
    check(got["faults3"] < 2000,
          "the second scan reads kept bars, yet took %d page faults"
          % got["faults3"])

inline = run(0)
log("kept as made (--keep-later-mb 0): first scan %d faults, kept later %d"
    % (inline["faults1"], inline["kept1"]))
check(inline["kept1"] == 0 and inline["kept2"] == 0,
      "--keep-later-mb 0 kept bars later: %d" % inline["kept1"])
check(inline["first"] == got["first"],
      "results differ between --keep-later-mb 0 and 64")
if not SANITIZED:
    check(inline["faults1"] >= 8000,
          "a first scan keeping its bars as made faults in their pages: "
          "%d faults" % inline["faults1"])
log("ok: the first scan's %d symbols were kept once idle (its faults: %d, "
    "keeping as made: %d), the second scan's results are the same"
    % (N, got["faults1"], inline["faults1"]))
