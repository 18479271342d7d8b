"""Two concurrent scans both progress; a worker that joins mid-scan gets
work."""
import time

import zmq

from zsharness import (Cluster, Client, check, check_exactly_once, log,
                       message_records, unpack)

N = 3000
with Cluster(workers=1, threads=1,
             worker_args=["--symbol-delay-us", "300"]) as cluster:
    client = Client(cluster)
    client.wait_ready()
    time.sleep(0.3)
    client.start_scan("conA", universe="synthetic:%d" % N)
    client.start_scan("conB", universe="synthetic:%d" % N,
                      filter="close > sma(20)")
    joined = []
    seen = {"conA": [], "conB": []}
    finished = {}
    deadline = time.time() + 120
    while len(finished) < 2 and time.time() < deadline:
        if not client.sub.poll(200):
            continue
        for topic, seq, body in message_records(client.sub.recv_multipart()):
            scan = topic.split(".")[0]
            seen[scan].append((topic, seq, body))
            if body["type"] == "finished":
                finished[scan] = body
        total = sum(len(v) for v in seen.values())
        if not joined and total > 400:
            cluster.add_worker("late")
            joined.append(total)
    check(len(finished) == 2, "both scans finished")
    a, _ = check_exactly_once(seen["conA"], N)
    b, _ = check_exactly_once(seen["conB"], N)
    check(len(a) == N and len(b) == N, "every symbol of both scans")
    # both progressed: each had results before the other finished
    first_a = next(i for i, r in enumerate(seen["conA"])
                   if r[2]["type"] == "result")
    check(first_a < len(seen["conA"]) // 2, "scan A progressed early")
    late_a = sum(1 for r in a if r["worker"] == "late")
    late_b = sum(1 for r in b if r["worker"] == "late")
    check(late_a + late_b > 0, "the late worker got work")
    # fairness: neither scan finished while the other had barely begun
    log("ok: two scans completed (%d + %d results); the late worker did "
        "%d + %d" % (len(a), len(b), late_a, late_b))
    client.close()
