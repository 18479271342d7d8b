"""How a lane batches its results (PROTOCOL.md, section 7), seen on the
bus: a quiet lane's first result leaves at once, alone (the broker forwards
it as a message of its own); after it, results gather across the lane's
tasks of one scan when the next task is already waiting, so one message
carries the records of several tasks.  One worker, one lane, warm bars
(--preload), tasks of at most 200 symbols, 3 queued in the lane."""
from zsharness import (Cluster, Client, check, check_exactly_once, log,
                       message_records)

with Cluster(workers=1, threads=1, broker_args=["--batch-max", "200"],
             worker_args=["--preload", "synthetic:3000",
                          "--prefetch", "3"]) as cluster:
    client = Client(cluster)
    client.wait_ready(timeout=60)
    client.wait_workers(1, timeout=60)
    client.start_scan("batch1", universe="synthetic:3000")
    messages = []  # the records of each results-out message
    records = []
    while not records or records[-1][2].get("type") != "finished":
        check(client.sub.poll(60000), "no message for 60 s")
        recs = message_records(client.sub.recv_multipart())
        messages.append(recs)
        records.extend(recs)
    check_exactly_once(records, 3000)
    results = [m for m in messages if m[0][2].get("type") == "result"]
    check(len(results[0]) == 1,
          "the first result came alone, got %d records" % len(results[0]))
    tasks = [len({r.get("task") for _, _, r in m}) for m in results]
    check(max(tasks) >= 2,
          "some message carried the records of several tasks (at most %d)"
          % max(tasks))
    check(all(len(m) <= 1024 for m in results),
          "at most 1024 records a message")
    log("ok: first result alone, then %d messages for 3000 results, up to "
        "%d tasks in one" % (len(results), max(tasks)))
    client.close()
