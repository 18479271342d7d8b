"""A sweep whose failed batch cuts its scan, while it holds another batch
of that scan in its list of expired ones.

One worker, one lane that queues a batch beyond the one it runs
(--prefetch 1), 100 ms a symbol, so that its two batches of 8 symbols
(--batch-min/max 8) outlive their leases (300 ms, to start and to finish)
and expire in the same sweep; --max-attempts 1 fails an expired batch's
missing symbols at once, and max_symbols 8 makes those failures cut the
scan.  Before the broker finished scans from the loop (zs_life_settle), the
cut finished the scan in the middle of the sweep and freed its other
in-flight batch, which the sweep then re-queued from its list: a use
after free (ASan: heap-use-after-free in s_task_requeue).  Now the scan
ends "max_symbols" with 8 results, exactly once, and the broker lives on
to answer."""
from zsharness import Client, Cluster, check, check_exactly_once, log

with Cluster(workers=1, threads=1,
             broker_args=["--max-attempts", "1", "--lease-ms", "300",
                          "--start-lease-ms", "300", "--batch-min", "8",
                          "--batch-max", "8"],
             worker_args=["--prefetch", "1", "--symbol-delay-us",
                          "100000"]) as cluster:
    client = Client(cluster)
    client.wait_ready()
    client.wait_workers(1)
    for k in range(3):
        sid = "cut%d" % k
        client.start_scan(sid, universe="synthetic:64", max_symbols=8)
        records = client.records(timeout=60)
        results, fin = check_exactly_once(records, 64)
        check(len(results) == 8 and fin["reason"] == "max_symbols",
              "scan %s ended %r after %d results"
              % (sid, fin["reason"], len(results)))
        check(cluster.broker.poll() is None, "the broker died")
        rep = client.request({"type": "scan_list"})
        check(rep.get("type") == "scans", "the broker answers: %r" % rep)
        log("ok: %s: cut at 8 by the sweep's failures (%d failed), the "
            "broker alive" % (sid, sum(1 for r in results if r.get("error"))))
