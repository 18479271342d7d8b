"""Termination criteria enforced by the broker: max_signals gives every
subscriber exactly N signals (a bare subscriber on the signals topic too),
max_symbols exactly N results, timeout ends the scan in time; and the CLI's
`zscan scan --max-signals N` prints exactly N signal records and a complete
record, as JSON lines."""
import json
import os
import subprocess
import time

import zmq

from zsharness import (BIN, Cluster, Client, check, log, message_head,
                       message_records, split, unpack)

N_SIG = 7
with Cluster(workers=2, threads=1) as cluster:
    client = Client(cluster)
    client.wait_ready()
    time.sleep(0.3)

    # a bare service subscribed to signals only, plus our full subscriber
    bare = zmq.Context.instance().socket(zmq.SUB)
    bare.setsockopt(zmq.LINGER, 0)
    bare.connect(cluster.endpoint(5))
    bare.setsockopt(zmq.SUBSCRIBE, b"cap1.r1")
    bare.setsockopt(zmq.SUBSCRIBE, b"cap1.ev")
    time.sleep(0.2)
    client.start_scan("cap1", universe="synthetic:20000",
                      max_signals=N_SIG)
    records = client.records(timeout=60)
    results, _, finished = split(records)
    fin = finished[0]
    sig = [r for r in results if r["signal"]]
    check(len(sig) == N_SIG, "exactly %d signals, got %d" % (N_SIG, len(sig)))
    check(fin["reason"] == "max_signals", "reason %r" % fin["reason"])
    check(fin["signals"] == N_SIG, "finished counts %d" % fin["signals"])
    check(results[-1]["signal"], "the Nth signal is the last result")
    check(fin["unscanned"] > 0, "work saved: %d" % fin["unscanned"])
    bare_sig = []
    nsig = nev = 0
    complete = True   # every message continues the counts exactly
    finished_seen = False
    deadline = time.time() + 5
    while time.time() < deadline:
        if not bare.poll(200):
            continue
        frames = bare.recv_multipart()
        topic, head, count = message_head(frames)
        recs = message_records(frames)
        # [pos, signals before, events before]: a signals-and-events view
        # checks it missed nothing with the two counts
        complete = complete and head[1] == nsig and head[2] == nev
        if topic.endswith(".r1"):
            nsig += count
        else:
            nev += 1
        bare_sig += [b["symbol"] for _, _, b in recs if b["type"] == "result"]
        if any(b["type"] == "finished" for _, _, b in recs):
            finished_seen = True
            break
    check(complete and finished_seen and nsig == N_SIG,
          "a signals-only subscriber can tell it missed nothing: counts "
          "continued %s, finished seen %s, %d signals"
          % (complete, finished_seen, nsig))
    check(bare_sig == [r["symbol"] for r in sig],
          "the bare subscriber saw the same %d signals: %r"
          % (N_SIG, bare_sig))

    # max_symbols
    client.start_scan("cap2", universe="synthetic:20000", max_symbols=1234)
    results, _, finished = split(client.records(timeout=60))
    check(len(results) == 1234 and finished[0]["reason"] == "max_symbols",
          "max_symbols: %d results, %s" % (len(results),
                                           finished[0]["reason"]))

    # timeout (slow the scan with a big universe of cold bars)
    t0 = time.time()
    client.start_scan("cap3", universe="synthetic:400000",
                      timeout_seconds=0.3)
    results, _, finished = split(client.records(timeout=60))
    took = time.time() - t0
    check(finished[0]["reason"] == "timeout", "timeout: %s"
          % finished[0]["reason"])
    check(0.25 < took < 2.0, "ended after %.2f s" % took)
    check(finished[0]["unscanned"] > 0, "timeout saved work")

    # bad requests get clear errors
    rep = client.request({"type": "scan_start", "scan": "bad1",
                          "def": {"filter": "rsi(14) < "}})
    check(rep["type"] == "error" and rep["code"] == 422
          and "position" in rep["message"],
          "bad filter: %r" % (rep,))
    rep = client.request({"type": "scan_start", "scan": "cap1"})
    check(rep["type"] == "error" and rep["code"] == 409, "id in use: %r"
          % (rep,))
    rep = client.request({"type": "scan_status", "scan": "nope"})
    check(rep["type"] == "error" and rep["code"] == 404, "unknown: %r"
          % (rep,))
    rep = client.request({"type": "scan_start", "scan": "bad2",
                          "universe": "martian:5"})
    check(rep["type"] == "error" and rep["code"] == 422, "universe: %r"
          % (rep,))
    rep = client.request({"type": "scan_start", "scan": "bad3",
                          "def": {"strategy": "rsi_oversold",
                                  "params": {"colour": 3}}})
    check(rep["type"] == "error" and "colour" in rep["message"],
          "unknown parameter: %r" % (rep,))

    # the CLI, as a user runs it, with JSON lines on a pipe
    out = subprocess.run(
        [os.path.join(BIN, "zscan"), "scan", "--port", str(cluster.base),
         "--universe", "synthetic:20000", "--max-signals", str(N_SIG)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    check(out.returncode == 0, "zscan scan exit %d: %s"
          % (out.returncode, out.stderr.decode()))
    lines = [json.loads(x) for x in out.stdout.decode().splitlines()]
    types = {x["type"] for x in lines}
    check(types <= {"started", "result", "progress", "complete"},
          "types %r" % types)
    sig = [x for x in lines if x["type"] == "result" and x["data"]["signal"]]
    check(len(sig) == N_SIG, "the CLI printed %d signals" % len(sig))
    check(lines[-1]["type"] == "complete"
          and lines[-1]["data"]["reason"] == "max_signals"
          and lines[-1]["data"]["signals"] == N_SIG,
          "complete record: %r" % (lines[-1],))
    seqs = [x["seq"] for x in lines]
    check(seqs == list(range(1, len(lines) + 1)),
          "JSON lines carry the records' positions 1..%d in order"
          % len(lines))
    # the cut is exact on the CLI's stream too: the last result is the
    # Nth signal, and nothing follows complete
    res = [x for x in lines if x["type"] == "result"]
    check(res[-1]["data"]["signal"], "the last result printed is a signal")
    r0 = sig[0]["data"]
    check(set(r0) >= {"symbol", "signal", "score", "price", "time",
                      "values"}, "result data fields: %r" % sorted(r0))

    # zscan status / list / stop answer
    out = subprocess.run([os.path.join(BIN, "zscan"), "list", "--all",
                          "--port", str(cluster.base)],
                         stdout=subprocess.PIPE, timeout=30)
    listed = json.loads(out.stdout)
    check(any(x["scan"] == "cap1" and x["reason"] == "max_signals"
              for x in listed), "zscan list --all shows cap1")
    out = subprocess.run([os.path.join(BIN, "zscan"), "stop", "nope",
                          "--port", str(cluster.base)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=30)
    check(out.returncode == 1 and b"404" in out.stderr,
          "zscan stop of an unknown scan fails with 404")
    log("ok: max_signals exact for full and bare subscribers, max_symbols, "
        "timeout after %.2f s, errors, CLI JSON lines" % took)
    bare.close()
    client.close()
