"""A slow subscriber hurts only itself (issue 17, section 1).

A SUB on results-out that subscribes to everything and never reads used to
freeze the cluster: results-out applied back-pressure, the broker stopped
reading workers, leases ran out and scans "completed" with thousands of
failed symbols.  Here one such subscriber sits on the bus while 100,000
records of five scans go by: every scan completes with every symbol
exactly once and no failures, and a second, healthy subscriber gets every
record.  Then the CLI itself is made slow (its stdout is a pipe nobody
reads for a while): it still prints every record once, in order, the gaps
filled from the history."""
import json
import os
import subprocess
import threading
import time

import zmq

from zsharness import (BIN, Cluster, Client, check, check_exactly_once, log,
                       split)

N = 20000
with Cluster(workers=2, threads=1, data="synthetic:bars=60",
             broker_args=["--out-hwm", "50"]) as cluster:
    client = Client(cluster)
    client.wait_ready()
    client.wait_workers(2)

    # the stalled subscriber: everything, never read, a tiny queue of its
    # own so that the broker's side fills at once
    ctx = zmq.Context.instance()
    stalled = ctx.socket(zmq.SUB)
    stalled.setsockopt(zmq.LINGER, 0)
    stalled.setsockopt(zmq.RCVHWM, 1)
    stalled.setsockopt(zmq.RCVBUF, 4096)
    stalled.connect(cluster.endpoint(5))
    stalled.setsockopt(zmq.SUBSCRIBE, b"")
    time.sleep(0.3)

    t0 = time.time()
    totals = []
    for k in range(5):
        scan = "slow%d" % k
        client.start_scan(scan, universe="synthetic:%d" % N)
        records = client.records(timeout=60)
        results, fin = check_exactly_once(records, N)
        check(fin["reason"] == "completed" and fin["failed"] == 0,
              "%s: %s with %d failed symbols beside a stalled subscriber"
              % (scan, fin["reason"], fin["failed"]))
        check(len(results) == N, "%s: %d results" % (scan, len(results)))
        totals.append(len(records))
    took = time.time() - t0
    # it lost messages for itself alone: the healthy subscriber got its
    # records live (a broker that made everyone wait, or dropped for
    # everyone, would have it fetch most of them from the history)
    check(client.repaired < sum(totals) // 10,
          "the healthy subscriber fetched %d of %d records from the "
          "history" % (client.repaired, sum(totals)))
    check(took < 40, "five scans took %.1f s beside a stalled subscriber"
          % took)
    log("ok: %d records of 5 scans beside a stalled subscriber in %.1f s "
        "(%d fetched from the history by the healthy one after %d holes)"
        % (sum(totals), took, client.repaired, client.holes))

    # the CLI as a slow subscriber: nobody reads its output for 3 s
    proc = subprocess.Popen(
        [os.path.join(BIN, "zscan"), "scan", "--port", str(cluster.base),
         "--universe", "synthetic:%d" % N, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3)
    out, err = proc.communicate(timeout=120)
    check(proc.returncode == 0, "zscan scan exit %d: %s"
          % (proc.returncode, err.decode()[-500:]))
    lines = [json.loads(x) for x in out.decode().splitlines()]
    seqs = [x["seq"] for x in lines]
    check(seqs == list(range(1, len(lines) + 1)),
          "the slow CLI printed every record once, in order (%d lines)"
          % len(lines))
    res = [x for x in lines if x["type"] == "result"]
    check(len(res) == N and lines[-1]["type"] == "complete"
          and lines[-1]["data"]["failed"] == 0,
          "the slow CLI: %d results, last %r" % (len(res), lines[-1]["type"]))
    log("ok: a CLI whose output was not read for 3 s printed all %d "
        "records in order" % len(lines))
    stalled.close()
    client.close()
