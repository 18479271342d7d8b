"""Full speed: a trivial filter over 200,000 synthetic symbols with short bar
histories and 2 workers: every symbol arrives, nothing dropped."""
import time

from zsharness import Cluster, Client, check, check_exactly_once, log

N = 200000
with Cluster(workers=2, threads=1, data="synthetic:bars=30") as cluster:
    client = Client(cluster)
    client.wait_ready()
    time.sleep(0.3)
    t0 = time.time()
    client.start_scan("fast1", universe="synthetic:%d" % N,
                      filter="close > 0")
    records = client.records(timeout=300)
    took = time.time() - t0
    results, fin = check_exactly_once(records, N)
    check(len(results) == N, "want %d results, got %d" % (N, len(results)))
    check(fin["reason"] == "completed", "reason %r" % fin["reason"])
    log("ok: %d results in %.2f s (%.0f/s through broker and a Python "
        "subscriber)" % (N, took, N / took))
    client.close()
