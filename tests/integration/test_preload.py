"""zscan-worker --preload SPEC: a worker loads the bars of a universe into
its cache before it says hello and takes work.  A bad universe stops it at once with the
reason; a cache too small is said; a preloaded worker serves a scan of that
universe exactly once, having loaded every symbol (its log counts them)."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

from zsharness import BIN, Cluster, Client, check, check_exactly_once, log

worker = os.path.join(BIN, "zscan-worker")

# a universe that is not one: exit 1 before connecting anywhere, saying why
p = subprocess.run([worker, "--port", "1", "--preload", "nonsense:3"],
                   capture_output=True, timeout=30)
err = p.stderr.decode()
check(p.returncode == 1, "exit code %d for a bad --preload" % p.returncode)
check("--preload nonsense:3" in err and "unknown universe" in err,
      "the reason is given: %r" % err)

# a cache that holds fewer than asked: the worker says how many did not fit
p = subprocess.Popen([worker, "--port", "1", "--preload", "synthetic:400",
                      "--cache-mb", "1", "--log-level", "info"],
                     stderr=subprocess.PIPE)
deadline = time.time() + 30
lines = []
while time.time() < deadline:
    line = p.stderr.readline().decode()
    lines.append(line)
    if "lanes" in line or not line:
        break
p.send_signal(signal.SIGTERM)
p.communicate(timeout=30)
text = "".join(lines)
check("preloaded 400 of 400 symbols of synthetic:400" in text,
      "the preload is counted: %r" % text)
check("symbols did not fit the bar cache" in text,
      "a full cache is said: %r" % text)
fit = [l for l in lines if "did not fit" in l]
if fit:
    n = int(fit[0].split("preload: ")[1].split()[0])
    # 1 MiB holds about 20 symbols of 1,260 bars (~50 kB each)
    check(360 <= n < 400, "%d of 400 did not fit 1 MiB" % n)

# a preloaded cluster: the scan is served exactly once, after every symbol
# was loaded
logs = tempfile.mkdtemp(prefix="zscan-preload-")
os.environ["ZSCAN_TEST_LOGS"] = logs
with Cluster(workers=2, threads=1,
             worker_args=["--preload", "synthetic:3000", "--log-level",
                          "info"]) as cluster:
    client = Client(cluster)
    client.wait_ready(timeout=60)
    # a worker says hello only once its preload is done: wait for both
    client.wait_workers(2, timeout=60)
    client.start_scan("pre1", universe="synthetic:3000")
    records = client.records(timeout=120)
    results, fin = check_exactly_once(records, 3000)
    check(fin["reason"] == "completed", "reason %r" % fin["reason"])
    client.close()
for wid in ("w1", "w2"):
    with open(os.path.join(logs, "worker-%s.log" % wid), "rb") as f:
        text = f.read().decode()
    check("preloaded 3000 of 3000 symbols of synthetic:3000" in text,
          "worker %s preloaded every symbol: %r" % (wid, text[:300]))
    check("did not fit" not in text, "worker %s: all fit" % wid)
shutil.rmtree(logs, ignore_errors=True)
log("ok: bad universe refused, a full cache said, 2 preloaded workers "
    "served 3000 symbols exactly once")
