"""Restarts (issue 17, section 3).

1. A worker killed and restarted at once with the same --id (what
   systemd's Restart=always does) gets work again at once: the scan
   completes exactly once, well within the lease (before the fix the new
   process's heartbeats kept the old one "alive", its lanes' credit was
   counted against the old one's, and the scan hung).
2. `zscan scan` and `zscan tail` notice a broker killed mid-scan within a
   few seconds and exit non-zero saying so; after a broker restart,
   `zscan scan` works again.
"""
import json
import os
import signal
import subprocess
import tempfile
import time

from zsharness import (BIN, Cluster, Client, check, check_exactly_once, log,
                       split)

N = 4000
with Cluster(workers=1, threads=2, data="synthetic:bars=60",
             worker_args=["--symbol-delay-us", "500"],
             broker_args=["--lease-ms", "30000", "--start-lease-ms",
                          "30000", "--liveness-ms", "20000"]) as cluster:
    client = Client(cluster)
    client.wait_ready()
    client.wait_workers(1, lanes=2)
    client.start_scan("rw1", universe="synthetic:%d" % N)
    t0 = time.time()
    restarted = []

    def on_record(topic, pos, body):
        if not restarted and body.get("type") == "result" and pos > 400:
            cluster.signal_worker("w1", signal.SIGKILL)
            cluster.workers["w1"].wait()
            cluster.add_worker("w1")          # the same id, at once
            restarted.append(time.time())

    records = client.records(timeout=25, on_record=on_record)
    results, fin = check_exactly_once(records, N)
    took = time.time() - restarted[0]
    check(fin["reason"] == "completed" and len(results) == N,
          "completed after the restart: %s, %d results"
          % (fin["reason"], len(results)))
    # its leases are 30 s and its liveness 20 s: only retiring the old
    # process at the new one's hello lets the scan finish this soon
    check(took < 10, "finished %.1f s after the restart" % took)
    workers = client.wait_workers(1, lanes=2)
    log("ok: a worker restarted with the same id took work at once; the "
        "scan finished %.1f s later, every symbol once" % took)
    client.close()

# the CLI and a broker that dies
with Cluster(workers=1, threads=1, data="synthetic:bars=60",
             worker_args=["--symbol-delay-us", "2000"]) as cluster:
    client = Client(cluster)
    client.wait_ready()
    client.wait_workers(1)
    # their output goes to files: nobody holds them up by not reading
    outs = {k: tempfile.TemporaryFile() for k in ("scan", "tail")}
    errs = {k: tempfile.TemporaryFile() for k in ("scan", "tail")}
    scan = subprocess.Popen(
        [os.path.join(BIN, "zscan"), "scan", "--port", str(cluster.base),
         "--universe", "synthetic:20000", "--id", "dead1", "--json"],
        stdout=outs["scan"], stderr=errs["scan"])
    time.sleep(1.0)
    tail = subprocess.Popen(
        [os.path.join(BIN, "zscan"), "tail", "dead1", "--port",
         str(cluster.base), "--json"],
        stdout=outs["tail"], stderr=errs["tail"])
    time.sleep(1.0)
    cluster.killed.add(cluster.broker.pid)
    cluster.broker.send_signal(signal.SIGKILL)
    cluster.broker.wait()
    t0 = time.time()
    ended = {}
    while len(ended) < 2 and time.time() - t0 < 15:
        for name, p in (("scan", scan), ("tail", tail)):
            if name not in ended and p.poll() is not None:
                ended[name] = time.time() - t0
        time.sleep(0.05)
    for name, p in (("scan", scan), ("tail", tail)):
        if p.poll() is None:
            p.kill()
            p.wait()
            check(False, "zscan %s still running 15 s after the broker "
                  "died" % name)
        errs[name].seek(0)
        err = errs[name].read()
        took = ended[name]
        check(p.returncode == 1, "zscan %s exit %d" % (name, p.returncode))
        check(b"broker" in err and b"answer" in err,
              "zscan %s says what happened: %r" % (name, err.decode()[-200:]))
        check(took < 8, "zscan %s noticed after %.1f s" % (name, took))
        log("ok: zscan %s exited 1 %.1f s after the broker died: %s"
            % (name, took, err.decode().strip().splitlines()[-1]))
    # a new broker on the same ports: the worker comes back, zscan works
    cluster.broker = cluster._spawn("broker-2", cluster._broker_argv())
    client.wait_ready()
    client.wait_workers(1)
    out = subprocess.run(
        [os.path.join(BIN, "zscan"), "scan", "--port", str(cluster.base),
         "--universe", "synthetic:300", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    lines = [json.loads(x) for x in out.stdout.decode().splitlines()]
    check(out.returncode == 0 and lines[-1]["type"] == "complete"
          and lines[-1]["data"]["results"] == 300,
          "zscan scan on the restarted broker: %d" % out.returncode)
    log("ok: after the broker restart zscan scan completes")
    client.close()
