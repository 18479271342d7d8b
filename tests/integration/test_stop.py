"""Stop mid-scan: no result of that scan is delivered after the finished
event, and every worker is idle shortly after."""
import time

from zsharness import Cluster, Client, check, log, split

N = 20000
with Cluster(workers=2, threads=2,
             worker_args=["--symbol-delay-us", "200", "--heartbeat-ms", "50"]) as cluster:
    client = Client(cluster)
    client.wait_ready()
    time.sleep(0.3)
    client.start_scan("stop1", universe="synthetic:%d" % N)
    got = []
    while len(got) < 200:
        got += client.records(timeout=0.5, until_finished=False)
    t0 = time.time()
    rep = client.request({"type": "scan_stop", "scan": "stop1"})
    check(rep["type"] == "scan_stopped" and rep["reason"] == "stopped",
          "stop reply: %r" % (rep,))
    rest = client.records(timeout=10)
    records = got + rest
    results, events, finished = split(records)
    fin = finished[0]
    check(fin["reason"] == "stopped", "reason %r" % fin["reason"])
    check(records[-1][2]["type"] == "finished", "finished is the last record")
    check(fin["results"] == len(results),
          "finished counts %d results, we saw %d" % (fin["results"],
                                                     len(results)))
    check(fin["unscanned"] > 0, "the stop saved work")
    # every worker idle: the workers' own count of busy lanes (reported in
    # their heartbeats, every 50 ms here) goes to zero
    idle_after = None
    deadline = time.time() + 3
    while time.time() < deadline:
        rep = client.request({"type": "worker_list"})
        busy = sum(w["busy"] for w in rep["workers"])
        if busy == 0 and len(rep["workers"]) == 2:
            idle_after = time.time() - t0
            break
        time.sleep(0.01)
    check(idle_after is not None, "workers still busy 3 s after the stop")
    # and the broker's own measure: from the stop to the last worker
    # reporting it let go of the scan's batches
    idle_ms = -1
    deadline = time.time() + 3
    while idle_ms < 0 and time.time() < deadline:
        idle_ms = client.request({"type": "scan_status",
                                  "scan": "stop1"})["idle_ms"]
        time.sleep(0.01)
    check(0 <= idle_ms < 1000, "workers let go within a second: %r"
          % idle_ms)
    late = client.drain(1.0)
    check(not late, "nothing after finished: %d" % len(late))
    # a second stop is harmless and keeps the first reason
    rep = client.request({"type": "scan_stop", "scan": "stop1",
                          "reason": "timeout"})
    check(rep["reason"] == "stopped", "first reason wins: %r" % (rep,))
    log("ok: stopped after %d results (%d unscanned), workers idle %.0f ms "
        "after the stop (broker: last batch let go after %.2f ms)"
        % (len(results), fin["unscanned"], idle_after * 1000, idle_ms))
    client.close()
