"""Cache affinity (issue 21): the broker gives each symbol to the worker
that holds its bars (rendezvous hashing of symbols over the live workers;
an idle lane steals rather than waits), so that N workers hold one copy of
a universe between them and a repeated scan finds its bars cached.

1. Two workers, the same universe scanned twice: at least 90% of the
   symbols go to the same worker both times (without affinity about
   half), and each scan is complete, exactly once.
2. A third worker joins: about a third of the symbols move, nearly all of
   them to the newcomer; the others stay where their bars are.
3. A worker leaves: only its share moves.
"""
from zsharness import Client, Cluster, check, check_exactly_once, log

N = 4000


def scan(client, sid):
    client.start_scan(sid, universe="synthetic:%d" % N)
    results, _ = check_exactly_once(client.records(timeout=120), N)
    return {r["symbol"]: r["worker"] for r in results}


with Cluster(workers=2, threads=1, data="synthetic:bars=100",
             worker_args=["--symbol-delay-us", "50"]) as cluster:
    client = Client(cluster)
    client.wait_ready()
    client.wait_workers(2)
    a = scan(client, "aff1")
    b = scan(client, "aff2")
    same = sum(1 for s in a if a[s] == b[s]) / N
    share = sum(1 for s in b if b[s] == "w1") / N
    check(same >= 0.9, "the same worker for %.1f%% of the symbols" %
          (100 * same))
    check(0.3 <= share <= 0.7, "w1 scanned %.1f%%" % (100 * share))
    log("ok: two workers: %.1f%% of the symbols to the same worker twice "
        "(w1 %.1f%%)" % (100 * same, 100 * share))

    cluster.add_worker("w3")
    client.wait_workers(3)
    c = scan(client, "aff3")
    moved = [s for s in b if b[s] != c[s]]
    to_new = sum(1 for s in moved if c[s] == "w3")
    check(0.15 <= len(moved) / N <= 0.5,
          "%.1f%% of the symbols moved when w3 joined" %
          (100 * len(moved) / N))
    check(to_new >= 0.8 * len(moved), "of %d moved, %d went to w3"
          % (len(moved), to_new))
    log("ok: w3 joined: %.1f%% of the symbols moved, %.0f%% of them to w3"
        % (100 * len(moved) / N, 100 * to_new / max(1, len(moved))))

    cluster.signal_worker("w3", 15)
    cluster.workers["w3"].wait(10)
    client.wait_workers(2)
    d = scan(client, "aff4")
    kept = [s for s in c if c[s] != "w3"]
    stay = sum(1 for s in kept if d[s] == c[s]) / len(kept)
    check(stay >= 0.9, "when w3 left, %.1f%% of the others' symbols "
          "stayed" % (100 * stay))
    log("ok: w3 left: %.1f%% of w1's and w2's symbols stayed with them"
        % (100 * stay))
    client.close()
