"""The gateway reads the results bus through proto's reader: its
/metrics counts every record of a real scan (results, signals, the
started and finished events) and /healthz answers, over real HTTP."""
import json
import os
import subprocess
import time
import urllib.request

from zsharness import BIN, Cluster, Client, check, free_base, log, split

with Cluster(workers=2, threads=1) as cluster:
    http = free_base(1)
    gw = subprocess.Popen(
        [os.path.join(BIN, "zscan-gateway"), "--listen", "127.0.0.1",
         "--http-port", str(http), "--port", str(cluster.base),
         "--log-level", "warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = "http://127.0.0.1:%d" % http

        def get(path):
            deadline = time.time() + 10
            while True:
                try:
                    with urllib.request.urlopen(base + path, timeout=2) as r:
                        return r.status, r.read().decode()
                except OSError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.1)

        status, body = get("/healthz")
        health = json.loads(body)
        check(status == 200 and health.get("status") == "ok",
              "healthz: %d %r" % (status, body))
        client = Client(cluster)
        client.wait_ready()
        time.sleep(0.5)  # the gateway's subscription reaches the broker
        client.start_scan("gw1", universe="synthetic:3000")
        results, events, finished = split(client.records(timeout=60))
        fin = finished[0]
        check(len(results) == 3000, "%d results" % len(results))

        def metric(text, name):
            for line in text.splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
            return None

        want = {"zscan_bus_results_total": 3000,
                "zscan_bus_signals_total": fin["signals"],
                "zscan_scans_started_total": 1,
                "zscan_scans_finished_total": 1,
                "zscan_bus_bad_records_total": 0}
        got = {}
        deadline = time.time() + 10
        while time.time() < deadline:
            status, text = get("/metrics")
            got = {k: metric(text, k) for k in want}
            records = metric(text, "zscan_bus_records_total")
            if got == want:
                break
            time.sleep(0.2)
        check(got == want, "metrics %r, want %r" % (got, want))
        # every record of the scan: its results plus its events (started,
        # progress, finished)
        check(records == 3000 + len(events),
              "records_total %r, want %d" % (records, 3000 + len(events)))
        log("ok: the gateway counted 3000 results, %d signals, %d events"
            % (fin["signals"], len(events)))
        client.close()
    finally:
        gw.terminate()
        try:
            rc = gw.wait(5)
        except subprocess.TimeoutExpired:
            gw.kill()
            rc = gw.wait()
    check(rc == 0, "the gateway exited with %d on SIGTERM" % rc)
