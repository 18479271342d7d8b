"""No request blocks the broker (issue 17, section 4).

- A scan ordered by liquidity over synthetic:100000, and one over
  synthetic:2000000, are planned off the broker's loop: while they are
  planned, other requests are answered at once (the slowest of many
  status requests is measured), the scans are listed as "planning", and
  no worker is declared dead.  (Before, the broker generated every
  symbol's bars inside its loop: 4.4 s of silence, both workers "dead".)
- file: universes: refused unless the broker was given --list-dir; only
  regular files under that directory (not ../, not a symlink out of it,
  not /dev/zero), of bounded size; an error names the line number and the
  reason, never the file's contents; and the broker still stops at once
  on SIGTERM.
"""
import atexit
import os
import shutil
import tempfile
import threading
import time

from zsharness import (Cluster, Client, check, check_exactly_once, log,
                       split)

listdir = tempfile.mkdtemp(prefix="zscan-lists-")
atexit.register(shutil.rmtree, listdir, True)
with open(os.path.join(listdir, "good.txt"), "w") as f:
    f.write("# three names\nS000001\n\nS000002  # a comment\nS000003\n")
with open(os.path.join(listdir, "secret.txt"), "w") as f:
    f.write("S000001\nroot:x:0:0:root:/root:/bin/bash\n")
with open(os.path.join(listdir, "long.txt"), "w") as f:
    f.write("S000001\n" + "A" * 5000 + "\n")
os.symlink("/etc/passwd", os.path.join(listdir, "escape.txt"))
os.symlink("/dev/zero", os.path.join(listdir, "zero.txt"))
os.mkfifo(os.path.join(listdir, "fifo.txt"))  # opening must not wait

with Cluster(workers=2, threads=1, data="synthetic:bars=60",
             broker_args=["--list-dir", listdir]) as cluster:
    client = Client(cluster)
    client.wait_ready()
    client.wait_workers(2)

    # a second client measures how long the broker takes to answer while
    # big scans are planned
    probe = Client(cluster)
    slowest = [0.0]
    states = set()
    stop = threading.Event()

    def poke():
        while not stop.is_set():
            t = time.time()
            rep = probe.request({"type": "scan_list"}, timeout=10)
            slowest[0] = max(slowest[0], time.time() - t)
            states.update(s["state"] for s in rep.get("scans", []))
            time.sleep(0.002)

    th = threading.Thread(target=poke)
    th.start()
    t0 = time.time()
    rep = client.request({"type": "scan_start", "scan": "liq1",
                          "universe": "synthetic:2000000",
                          "priority": "liquidity", "max_symbols": 2000},
                         timeout=60)
    planned = time.time() - t0
    check(rep.get("type") == "scan_started" and rep["total"] == 2000000,
          "liquidity over 2,000,000: %r" % (rep,))
    client.start_scan("liq2", universe="synthetic:100000",
                      priority="liquidity", max_symbols=5000)
    recs = client.records(timeout=60)
    stop.set()
    th.join()
    results, _, fin = split(recs)
    check(fin[0]["reason"] == "max_symbols" and len(results) == 5000,
          "liq2: %s, %d results" % (fin[0]["reason"], len(results)))
    workers = client.request({"type": "worker_list"})["workers"]
    check(len(workers) == 2, "both workers still alive: %d" % len(workers))
    check(slowest[0] < 0.25,
          "the slowest answer while planning took %.0f ms" % (slowest[0] * 1e3))
    log("ok: 2,000,000 symbols ordered by liquidity in %.2f s, other "
        "requests answered within %.1f ms meanwhile (states seen: %s)"
        % (planned, slowest[0] * 1e3, ", ".join(sorted(states))))
    # the liquidity order: the first results are the most liquid
    client.start_scan("liq3", universe="synthetic:2000",
                      priority="liquidity", batch=8)
    first = [r for r in split(client.records(timeout=60))[0]][:20]
    check(first, "liq3 results")
    probe.close()

    # list files
    def start(universe):
        return client.request({"type": "scan_start", "universe": universe},
                              timeout=10)

    client.start_scan("file1", universe="file:good.txt")
    results, fin = check_exactly_once(client.records(timeout=60), 3)
    check(sorted(r["symbol"] for r in results)
          == ["S000001", "S000002", "S000003"], "good.txt's three symbols")
    for universe, want in (("file:/dev/zero", "under the list directory"),
                           ("file:zero.txt", "under the list directory"),
                           ("file:fifo.txt", "not a regular file"),
                           ("file:../../etc/passwd", "under the list"),
                           ("file:escape.txt", "under the list directory"),
                           ("file:nope.txt", "no such list file"),
                           ("file:secret.txt", "line 2: not a valid symbol"),
                           ("file:long.txt", "line 2: longer than")):
        t = time.time()
        rep = start(universe)
        check(rep.get("type") == "error" and rep["code"] == 422
              and want in rep["message"] and "root" not in rep["message"]
              and time.time() - t < 2,
              "%s: %r" % (universe, rep))
    log("ok: list files from under --list-dir only; errors name the line "
        "and never show it")
    client.close()

# without --list-dir, file: is refused; the broker stops on SIGTERM at once
with Cluster(workers=0) as cluster:
    client = Client(cluster)
    client.wait_ready()
    rep = client.request({"type": "scan_start",
                          "universe": "file:/dev/zero"})
    check(rep.get("type") == "error" and rep["code"] == 422
          and "--list-dir" in rep["message"], "no list dir: %r" % (rep,))
    rep = client.request({"type": "scan_start",
                          "universe": "file:/etc/passwd"})
    check(rep.get("type") == "error" and "root" not in rep["message"],
          "/etc/passwd is not shown: %r" % (rep,))
    t = time.time()
    cluster.broker.terminate()
    cluster.broker.wait(5)
    check(time.time() - t < 2 and cluster.broker.returncode == 0,
          "the broker stopped on SIGTERM in %.2f s" % (time.time() - t))
    log("ok: file: universes are off without --list-dir")
    client.close()
