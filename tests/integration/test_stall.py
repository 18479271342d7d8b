"""SIGSTOP a worker holding a batch: its batch is re-sent after the lease;
SIGCONT it: its late duplicates are not delivered."""
import signal
import time

from zsharness import Cluster, Client, check, check_exactly_once, log

N = 3000
with Cluster(workers=2, threads=1,
             worker_args=["--symbol-delay-us", "300"],
             broker_args=["--lease-ms", "700", "--start-lease-ms", "700",
                          "--liveness-ms", "60000", "--batch-max", "64"]
             ) as cluster:
    client = Client(cluster)
    client.wait_ready()
    time.sleep(0.5)
    client.start_scan("stall1", universe="synthetic:%d" % N)
    stopped = []

    def on_record(topic, seq, body):
        if (not stopped and body.get("type") == "result"
                and body.get("worker") == "w1" and seq > 200):
            cluster.signal_worker("w1", signal.SIGSTOP)
            stopped.append(time.time())

    records = client.records(timeout=120, on_record=on_record)
    check(stopped, "w1 was stopped while holding a batch")
    results, fin = check_exactly_once(records, N)
    check(len(results) == N and fin["reason"] == "completed",
          "completed with every symbol: %d, %s" % (len(results),
                                                   fin["reason"]))
    took = time.time() - stopped[0]
    check(took >= 0.6, "the stalled batch waited for its lease (%.2f s)"
          % took)
    # w1 comes back and finishes its stale batch: nothing more is delivered
    cluster.signal_worker("w1", signal.SIGCONT)
    late = client.drain(1.5)
    check(not late, "no record after finished (got %d)" % len(late))
    log("ok: stalled batch re-sent after the lease (%.2f s); late "
        "duplicates dropped" % took)
    client.close()
