"""Streaming: a result reaches subscribers as soon as its symbol is done,
even when results are batched on the bus.  One lane, 30 ms per symbol
(--symbol-delay-us): results arrive one by one about 30 ms apart, not in
bursts at the end of each batch of work, nor in pairs (a result waiting for
the next before the lane's batch is found late)."""
import time

from zsharness import Cluster, Client, check, log

with Cluster(workers=1, threads=1,
             worker_args=["--symbol-delay-us", "30000"]) as cluster:
    client = Client(cluster)
    client.wait_ready()
    client.start_scan("stream1", universe="synthetic:24")
    arrivals = []

    def on_record(topic, seq, body):
        if body.get("type") == "result":
            arrivals.append(time.monotonic())

    client.records(timeout=60, on_record=on_record)
    check(len(arrivals) == 24, "%d results" % len(arrivals))
    # in any 10 ms, at most 3 results (scheduling jitter): a lane that held
    # its results back would deliver 8 (a batch of work) at once
    worst = max(sum(1 for b in arrivals if a <= b < a + 0.010)
                for a in arrivals)
    gaps = sorted(b - a for a, b in zip(arrivals, arrivals[1:]))
    median_gap = gaps[len(gaps) // 2]
    check(worst <= 3, "%d results arrived within 10 ms" % worst)
    check(0.020 <= median_gap <= 0.045,
          "median gap between results %.1f ms (30 ms per symbol)"
          % (median_gap * 1e3))
    log("ok: 24 results one by one, median gap %.1f ms, at most %d in "
        "10 ms" % (median_gap * 1e3, worst))
    client.close()
