"""bench/: a benchmark prints only figures it measured.

zs-bench-gateway with ZS_BENCH_ONLY=idle holds idle connections and
measures nothing else: it must print the memory per idle connection (a
positive byte count) and no fan-out rate or time to first record (it once
printed "0 records/s" and "0.00 ms" for those, which it had not measured).
Every BENCH line must carry a positive value.  The benchmarks are not
built in every build (the sanitizer builds leave them out): said, and
nothing to check there."""
import os
import subprocess
import sys

from zsharness import check, log

BIN = os.environ.get("ZSCAN_BIN", "build/bin")
bench = os.path.join(BIN, "zs-bench-gateway")
if not os.path.exists(bench):
    log("bench: %s is not built here (ZS_BENCH off): nothing to check"
        % bench)
    sys.exit(0)

env = dict(os.environ, ZS_BENCH_ONLY="idle", ZS_BENCH_IDLE="100")
p = subprocess.run([bench], env=env, capture_output=True, timeout=240)
out = p.stdout.decode()
check(p.returncode == 0, "zs-bench-gateway exited %d: %s"
      % (p.returncode, p.stderr.decode()[-500:]))
lines = [l.split("\t") for l in out.splitlines() if l.startswith("BENCH\t")]
log("bench lines: %s" % [l[1] for l in lines])
check(any("memory per idle connection" in l[1] for l in lines),
      "no idle-connection figure in: %r" % out)
for l in lines:
    check(len(l) >= 4 and float(l[2]) > 0,
          "a figure it did not measure: %r" % "\t".join(l))
    check("fan-out" not in l[1] and "first WebSocket record" not in l[1],
          "idle alone printed %r" % l[1])
log("ok: only the idle figure, measured")
