"""4 workers, 10,000 synthetic symbols: every symbol exactly once, and the
finished event's totals equal what a subscriber counted."""
from zsharness import Cluster, Client, check, check_exactly_once, log

with Cluster(workers=4, threads=1) as cluster:
    client = Client(cluster)
    client.wait_ready()
    client.start_scan("once1", universe="synthetic:10000")
    records = client.records(timeout=120)
    results, fin = check_exactly_once(records, 10000)
    check(len(results) == 10000, "want 10000 results, got %d" % len(results))
    check(fin["reason"] == "completed", "reason %r" % fin["reason"])
    check(records[0][2]["type"] == "started" and records[0][1] == 1,
          "the first record is the started event with seq 1")
    workers = {r["worker"] for r in results}
    check(len(workers) >= 2, "work spread over workers: %r" % workers)
    log("ok: 10000 results exactly once from %d workers, %d signals"
        % (len(workers), fin["signals"]))
    client.close()
