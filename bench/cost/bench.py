#!/usr/bin/python3
"""Cost against work: end-to-end scans through a broker and 2 single-lane
workers (as `zscan local` runs them, TCP on 127.0.0.1, each worker's cache
at its default budget and its default memory touched ahead, --prefault-mb
64, which its first bars fill), started fresh for each shape of work:

  universes of 10,000, 100,000 and 1,000,000 symbols x 1,260 bars, and
  10,000 symbols x 252 and x 5,040 bars;

for each: the first scan (cold: bars generated for it, kept by the
workers once idle), a second at once after it (while they keep them)
and, after a pause of a second, a third (warm), in symbols/s by the
broker's own request-to-finished time
(the `complete` record's elapsed), each worker's and the broker's peak
memory (VmHWM) against the bytes of one copy of the universe's closes
(the default scan reads close alone, and that is what the workers make
and cache); and
for the warm 10,000-symbol scan, `zscan scan --json > file` timed from
the command's start to its exit against the broker's rate in the same
scan; and
`zscan local --exit` (start a broker and 2 workers, run the first scan
of 10,000 symbols, stop them all) from the command's start to its exit,
against that first scan's own request-to-finished time; and `zscan
local`'s first scan against the same scan a second after it (`zscan
scan`, warm), both by the broker's request-to-finished time.
Prints BENCH lines (see bench/run).

ZS_BENCH_COST=10k,100k,1m,252,5040,local picks shapes (all by
default)."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
from zsharness import free_base  # noqa: E402

BIN = os.environ.get("ZSCAN_BIN", "build/bin")
# the default scan (rsi_oversold) reads close alone, so the workers make
# and cache that column: one double a bar (whole bars are five)
BYTES_PER_BAR = 8


def peak_mb(pid):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


class Cluster:
    def __init__(self, bars):
        self.port = free_base()
        data = "synthetic:bars=%d" % bars
        self.broker = subprocess.Popen(
            [os.path.join(BIN, "zscan-broker"), "--bind", "127.0.0.1",
             "--port", str(self.port), "--data", data,
             "--log-level", "error"]
            + os.environ.get("ZS_BENCH_BROKER_ARGS", "").split())
        self.workers = [subprocess.Popen(
            [os.path.join(BIN, "zscan-worker"), "--port", str(self.port),
             "--threads", "1", "--id", "cost%d" % i, "--data", data,
             "--log-level", "error"]) for i in range(2)]
        time.sleep(0.5)  # the workers say hello

    def scan(self, universe, out):
        """One scan through `zscan scan --json > out`: (broker elapsed,
        the command's wall time, symbols scanned)."""
        t0 = time.monotonic()
        with open(out, "wb") as f:
            p = subprocess.run(
                [os.path.join(BIN, "zscan"), "scan", "--port",
                 str(self.port), "--universe", universe, "--json"],
                stdout=f, stderr=subprocess.PIPE, timeout=1800)
        wall = time.monotonic() - t0
        if p.returncode != 0:
            raise RuntimeError("zscan scan: %s" % p.stderr.decode())
        last = b""
        with open(out, "rb") as f:
            f.seek(max(0, os.path.getsize(out) - 4096))
            for line in f:
                if line.startswith(b'{"type":"complete"'):
                    last = line
        done = json.loads(last)["data"]
        return done["elapsed"], wall, done["scanned"]

    def stop(self):
        mem = [peak_mb(w.pid) for w in self.workers], peak_mb(self.broker.pid)
        for p in self.workers + [self.broker]:
            p.terminate()
        for p in self.workers + [self.broker]:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return mem


def local_exit(out):
    """`zscan local --exit --json > out`: (its wall time, its first scan's
    elapsed as the broker measured it)."""
    t0 = time.monotonic()
    with open(out, "wb") as f:
        p = subprocess.run(
            [os.path.join(BIN, "zscan"), "local", "--exit", "--no-gateway",
             "--port", str(free_base()), "--json"],
            stdout=f, stderr=subprocess.PIPE, timeout=600)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError("zscan local: %s" % p.stderr.decode())
    with open(out, "rb") as f:
        done = [json.loads(line)["data"] for line in f
                if line.startswith(b'{"type":"complete"')]
    return wall, done[-1]["elapsed"]


def local_warm(out):
    """`zscan local --json`: its first scan's elapsed, and a `zscan scan`'s
    a second after it ended (the broker's request to finished, both)."""
    port = free_base()
    p = subprocess.Popen(
        [os.path.join(BIN, "zscan"), "local", "--no-gateway", "--port",
         str(port), "--json"], stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        first = None
        for line in p.stdout:
            if line.startswith(b'{"type":"complete"'):
                first = json.loads(line)["data"]["elapsed"]
                break
        if first is None:
            raise RuntimeError("zscan local: no first scan")
        time.sleep(1.0)
        with open(out, "wb") as f:
            subprocess.run(
                [os.path.join(BIN, "zscan"), "scan", "--port", str(port),
                 "--json"], stdout=f, stderr=subprocess.PIPE, timeout=600,
                check=True)
        with open(out, "rb") as f:
            warm = [json.loads(line)["data"]["elapsed"] for line in f
                    if line.startswith(b'{"type":"complete"')][-1]
        return first, warm
    finally:
        os.killpg(p.pid, signal.SIGINT)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


SHAPES = {
    "10k": (10000, 1260), "100k": (100000, 1260), "1m": (1000000, 1260),
    "252": (10000, 252), "5040": (10000, 5040),
}


def main():
    want = os.environ.get("ZS_BENCH_COST",
                          "10k,100k,1m,252,5040,local").split(",")
    out = tempfile.mktemp(prefix="zs-bench-cost-", suffix=".jsonl")
    try:
        for key in want:
            if key == "local":
                wall, first = local_exit(out)
                print("BENCH\tcost: zscan local --exit (start, first scan "
                      "of 10,000, stop)\t%.3f\ts\tits first scan, request "
                      "to finished\t%.3f" % (wall, first))
                first, warm = local_warm(out)
                print("BENCH\tcost: zscan local, its first scan of 10,000 "
                      "(request to finished)\t%.0f\tsym/s\tthe same scan a "
                      "second later (warm)\t%.0f" %
                      (10000 / first, 10000 / warm))
                sys.stdout.flush()
                continue
            n, bars = SHAPES[key]
            label = "%s x %d bars" % ("{:,}".format(n), bars)
            c = Cluster(bars)
            try:
                cold, cold_wall, got1 = c.scan("synthetic:%d" % n, out)
                again, again_wall, got2 = c.scan("synthetic:%d" % n, out)
                time.sleep(1.0)  # the workers keep what they made
                warm, warm_wall, got3 = c.scan("synthetic:%d" % n, out)
            finally:
                (w, b) = c.stop()
            if got1 != n or got2 != n or got3 != n:
                print("bench: %s: scanned %d, %d and %d of %d" %
                      (label, got1, got2, got3, n), file=sys.stderr)
                return 1
            copy_mb = n * bars * BYTES_PER_BAR / 2 ** 20
            print("BENCH\tcost: %s, first scan (cold), 2 workers\t%.0f\t"
                  "sym/s\tthe warm scan\t%.0f" %
                  (label, n / cold, n / warm))
            print("BENCH\tcost: %s, second scan at once after the first, "
                  "2 workers\t%.0f\tsym/s\tthe warm scan\t%.0f" %
                  (label, n / again, n / warm))
            print("BENCH\tcost: %s, warm scan (a second after), 2 workers"
                  "\t%.0f\tsym/s\t-\t-" % (label, n / warm))
            print("BENCH\tcost: %s, both workers' peak memory together\t"
                  "%.0f\tMB\tone copy of the universe's closes\t%.0f" %
                  (label, w[0] + w[1], copy_mb))
            print("BENCH\tcost: %s, peak memory of each worker (the "
                  "larger)\t%.0f\tMB\t-\t-" % (label, max(w)))
            print("BENCH\tcost: %s, broker's peak memory\t%.0f\tMB\t-\t-"
                  % (label, b))
            if key == "10k":
                print("BENCH\tcost: zscan scan --json > file, warm 10,000 "
                      "x 1,260 bars\t%.0f\tsym/s\tthe broker's request to "
                      "finished, same scan\t%.0f" %
                      (n / warm_wall, n / warm))
            sys.stdout.flush()
    finally:
        if os.path.exists(out):
            os.unlink(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
