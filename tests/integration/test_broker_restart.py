"""A broker that restarts: the workers notice the new instance by its
heartbeat, say hello again and take its work, so a scan started on the
new broker completes with every symbol exactly once, from both workers."""

from zsharness import Cluster, Client, check, check_exactly_once, log

with Cluster(workers=2, threads=1) as cluster:
    client = Client(cluster)
    client.wait_ready()
    client.start_scan("before", universe="synthetic:2000")
    results, fin = check_exactly_once(client.records(timeout=60), 2000)
    check(fin["reason"] == "completed", "first scan: %r" % fin["reason"])
    client.close()

    cluster.restart_broker()
    client = Client(cluster)
    client.wait_ready()
    # both workers are back once the new broker lists them with their lanes
    client.wait_workers(2)
    client.start_scan("after", universe="synthetic:5000")
    records = client.records(timeout=60)
    results, fin = check_exactly_once(records, 5000)
    check(fin["reason"] == "completed", "second scan: %r" % fin["reason"])
    by = {r["worker"] for r in results}
    check(by == {"w1", "w2"}, "both workers worked for the new broker: %r"
          % by)
    log("ok: after a broker restart both workers came back; 5000 results "
        "exactly once")
    client.close()
