"""kill -9 one worker mid-scan: the scan still finishes, every symbol
exactly once, and the finished event says so."""
import signal
import time

from zsharness import Cluster, Client, check, check_exactly_once, log

N = 4000
with Cluster(workers=3, threads=1, worker_args=["--symbol-delay-us", "500"],
             broker_args=["--liveness-ms", "800", "--heartbeat-ms", "100"]
             ) as cluster:
    client = Client(cluster)
    client.wait_ready()
    time.sleep(0.5)
    client.start_scan("kill1", universe="synthetic:%d" % N)
    killed = []

    def on_record(topic, seq, body):
        if not killed and body.get("type") == "result" and seq > 300:
            cluster.signal_worker("w2", signal.SIGKILL)
            killed.append(seq)

    records = client.records(timeout=120, on_record=on_record)
    check(killed, "the worker was killed mid-scan")
    results, fin = check_exactly_once(records, N)
    check(len(results) == N, "want %d results, got %d" % (N, len(results)))
    check(fin["reason"] == "completed", "reason %r" % fin["reason"])
    check(fin["failed"] == 0, "no symbol failed: %d" % fin["failed"])
    after = [r for r in results if r["worker"] == "w2"]
    log("ok: killed w2 after seq %d; %d results, w2 delivered %d before "
        "dying" % (killed[0], len(results), len(after)))
    client.close()
