"""zscan-worker --prefault-mb: an idle lane touches memory ahead for the
bars its first scans will cache, and those bars land in it.

Two single-lane workers, one touching 64 MB ahead (the default) and one
with --prefault-mb 0, each alone with a broker, each scanning 4,000
synthetic symbols (their closes: about 40 MB) as its first scan.  Counted
from /proc: the page faults the worker took during the scan, and its
resident memory before and after.  The worker without the reserve faults
in the closes' pages (at least 8,000 faults: the measurement sees them);
the one with it takes under a quarter of that, and its memory grows by
less than 10 MB: the cache used the pages touched ahead, which stayed
with the worker (had glibc given them back, or had they been touched in
another thread's heap, the scan would fault as much as without)."""
import os
import time

from zsharness import (Cluster, Client, check, check_exactly_once,
                       faults_rss, log)

N = 4000


def first_scan(prefault_mb):
    with Cluster(workers=1, threads=1,
                 worker_args=["--prefault-mb", str(prefault_mb),
                              "--keep-later-mb", "0"]) as cluster:
        client = Client(cluster)
        client.wait_ready()
        client.wait_workers(1)
        time.sleep(1.0)  # idle: the lane touches its memory ahead
        pid = cluster.workers["w1"].pid
        f0, r0 = faults_rss(pid)
        client.start_scan("pf", universe="synthetic:%d" % N)
        records = client.records(timeout=120)
        check_exactly_once(records, N)
        f1, r1 = faults_rss(pid)
        client.close()
        return f1 - f0, r0, r1


if os.environ.get("ZS_SANITIZED"):
    # AddressSanitizer's allocator replaces glibc's (mallopt is not its
    # business, and freed memory waits in its quarantine): the pages are
    # not the same ones.  The scans must still be right.
    first_scan(64)
    log("ok: sanitized build: the scan is right; pages not counted")
    raise SystemExit(0)

faults0, before0, after0 = first_scan(0)
log("without: %d page faults during the scan, %d -> %d KB resident"
    % (faults0, before0, after0))
check(faults0 >= 8000,
      "a first scan of %d symbols faults in its closes' pages: %d faults"
      % (N, faults0))

faults, before, after = first_scan(64)
log("with 64 MB touched ahead: %d page faults, %d -> %d KB resident"
    % (faults, before, after))
check(before >= 64 * 1024,
      "the idle worker holds the 64 MB it touched: %d KB" % before)
check(faults * 4 < faults0,
      "the scan's bars land in the pages touched ahead: %d faults, %d "
      "without" % (faults, faults0))
check(after - before < 10 * 1024,
      "the worker's memory grew by %d KB during the scan" % (after - before))
log("ok: the first scan took %d page faults instead of %d"
    % (faults, faults0))
