"""History and replay (issue 17, section 2).

- A late joiner (a Python client written to PROTOCOL.md section 7:
  subscribe, replay, then live) gets every record of a running scan once,
  the same records at the same positions as a subscriber that was there
  from the start; `zscan tail` does too, mid-scan and after the end, and
  from --after N.
- A signals-and-events view replays only signals and events, and its
  counts say it missed nothing.
- A history too small for a scan says which range left it: the replay's
  `first`, and `zscan tail` reports the loss and exits 1.
- `sync: true` works for any subscription that covers the scan (a
  signals-only one, the empty prefix): the scan starts at once, not after
  the 1 s hold.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time

import zmq

from zsharness import (BIN, Cluster, Client, check, check_exactly_once, log,
                       message_records, split)


def zscan(cluster, *args, timeout=60):
    return subprocess.run([os.path.join(BIN, "zscan")] + list(args)
                          + ["--port", str(cluster.base), "--json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)


N = 6000
with Cluster(workers=1, threads=1, data="synthetic:bars=60",
             worker_args=["--symbol-delay-us", "250"]) as cluster:
    client = Client(cluster)
    client.wait_ready()
    client.wait_workers(1)

    # a scan of about 1.5 s; a full subscriber from the start
    client.start_scan("h1", universe="synthetic:%d" % N)
    time.sleep(0.5)
    # the late joiner, written from the spec: subscribe, replay, live
    late = Client(cluster)
    late.sub.setsockopt(zmq.SUBSCRIBE, b"h1.")
    late.following.add("h1")
    replayed, lost, page = late.replay("h1", 0)
    check(not lost and page["state"] == "running" and len(replayed) > 10,
          "mid-scan replay: %d records, lost %r, state %s"
          % (len(replayed), lost, page["state"]))
    for topic, pos, rec in replayed:
        late.have["h1"] = pos
    joined = replayed + late.records(timeout=60)
    full = client.records(timeout=60)
    results, fin = check_exactly_once(full, N)
    check_exactly_once(joined, N)
    check([(p, r.get("symbol"), r["type"]) for _, p, r in joined]
          == [(p, r.get("symbol"), r["type"]) for _, p, r in full],
          "the late joiner has the same records at the same positions")
    log("ok: a late joiner replayed %d records, then %d live: all %d, "
        "same positions" % (len(replayed), len(joined) - len(replayed),
                            len(full)))

    # zscan tail after the end: the whole scan from its start
    out = zscan(cluster, "tail", "h1")
    check(out.returncode == 0, "tail exit %d: %s"
          % (out.returncode, out.stderr.decode()))
    lines = [json.loads(x) for x in out.stdout.decode().splitlines()]
    check([x["seq"] for x in lines] == [p for _, p, _ in full],
          "zscan tail of a finished scan prints all %d records (got %d)"
          % (len(full), len(lines)))
    check(lines[0]["type"] == "started" and lines[-1]["type"] == "complete",
          "from started to complete")
    # into a file, its JSON lines leave in large writes (stdio's default
    # 4 KB buffer cost a write(2) per 4 KB: 300 for this scan)
    tmp = tempfile.mkdtemp(prefix="zscan-tail-")
    trace = os.path.join(tmp, "tail.strace")
    with open(os.path.join(tmp, "tail.jsonl"), "wb") as f:
        run = subprocess.run(
            ["strace", "-f", "-qq", "-e", "trace=write", "-o", trace,
             os.path.join(BIN, "zscan"), "tail", "h1", "--json",
             "--port", str(cluster.base)],
            stdout=f, stderr=subprocess.PIPE, timeout=60,
            # LeakSanitizer stops the threads with ptrace, which strace
            # already holds: no leak check for this one run
            env=dict(os.environ, ASAN_OPTIONS=os.environ.get(
                "ASAN_OPTIONS", "") + ":detect_leaks=0"))
        size = f.tell()
    writes = [x for x in open(trace) if "write(1," in x]
    check(run.returncode == 0 and size > 1000000
          and size / len(writes) >= 16384,
          "zscan tail --json > file: %d bytes in %d writes (want >= 16 KB "
          "each): exit %d" % (size, len(writes), run.returncode))
    shutil.rmtree(tmp, ignore_errors=True)
    log("ok: zscan tail into a file: %d bytes in %d writes"
        % (size, len(writes)))
    out = zscan(cluster, "tail", "h1", "--after", "5000")
    lines = [json.loads(x) for x in out.stdout.decode().splitlines()]
    check(out.returncode == 0
          and [x["seq"] for x in lines] == list(range(5001, len(full) + 1)),
          "tail --after 5000 starts at 5001 (%d lines)" % len(lines))

    # zscan tail mid-scan: history, then live, every record once
    client.start_scan("h2", universe="synthetic:%d" % N)
    time.sleep(0.6)
    tail = zscan(cluster, "tail", "h2")
    full = client.records(timeout=60)
    lines = [json.loads(x) for x in tail.stdout.decode().splitlines()]
    check(tail.returncode == 0
          and [x["seq"] for x in lines] == [p for _, p, _ in full],
          "zscan tail mid-scan: %d lines, want %d" % (len(lines), len(full)))
    log("ok: zscan tail after the end, from --after, and mid-scan")

    # a signals-and-events view: only those, counted
    sig, lost, page = client.replay("h2", 0, view="signals")
    kinds = {t.split(".")[1] for t, _, _ in sig}
    nsig = sum(1 for _, _, r in sig if r["type"] == "result")
    _, fin2 = check_exactly_once(full, N)
    check(kinds == {"r1", "ev"} and nsig == fin2["signals"]
          and sig[-1][2]["type"] == "finished" and page["done"],
          "signals view: topics %r, %d signals of %d, last %s"
          % (kinds, nsig, fin2["signals"], sig[-1][2]["type"]))

    # sync with a signals-only subscription starts at once
    bare = zmq.Context.instance().socket(zmq.SUB)
    bare.setsockopt(zmq.LINGER, 0)
    bare.connect(cluster.endpoint(5))
    bare.setsockopt(zmq.SUBSCRIBE, b"h3.r1")
    bare.setsockopt(zmq.SUBSCRIBE, b"h3.ev")
    time.sleep(0.3)
    t0 = time.time()
    client.start_scan("h3", subscribe=False, sync=True,
                      universe="synthetic:300")
    first = None
    while time.time() - t0 < 5:
        if bare.poll(100):
            recs = message_records(bare.recv_multipart())
            first = first or time.time() - t0
            if any(r["type"] == "finished" for _, _, r in recs):
                break
    check(first is not None and first < 0.5,
          "a sync start with a signals-only subscriber began after %s s"
          % first)
    log("ok: signals view replayed; sync honoured a signals-only "
        "subscription (%.0f ms)" % (first * 1000))
    bare.close()
    late.close()
    client.close()

# a history too small for the scan: the loss is said, never hidden
with Cluster(workers=1, threads=1, data="synthetic:bars=60",
             broker_args=["--history-mb", "1"]) as cluster:
    client = Client(cluster)
    client.wait_ready()
    client.wait_workers(1)
    client.start_scan("big", universe="synthetic:30000")
    full = client.records(timeout=60)
    check_exactly_once(full, 30000)
    recs, lost, page = client.replay("big", 0)
    check(lost and lost[0][0] == 1 and lost[0][1] > 1000
          and recs and recs[0][1] == lost[0][1] + 1
          and recs[-1][2]["type"] == "finished",
          "replay from 0 says records 1..%s left the history, then gives "
          "the rest" % (lost[0][1] if lost else "?"))
    out = zscan(cluster, "tail", "big")
    lines = [json.loads(x) for x in out.stdout.decode().splitlines()]
    check(out.returncode == 1 and b"left the broker's history" in out.stderr
          and lines and lines[0]["seq"] == lost[0][1] + 1
          and lines[-1]["type"] == "complete",
          "zscan tail reports the lost range and exits 1: %d, %r"
          % (out.returncode, out.stderr.decode()[-300:]))
    log("ok: with a 1 MB history, records 1..%d reported lost, %d replayed"
        % (lost[0][1], len(recs)))
    client.close()
