"""The gateway's log budget and the clients reading a finished scan.

The gateway keeps every scan's records within --log-mb; past it, finished
scans go whole, oldest first.  A client still reading one of them must not
lose it from under its feet: before, a client streaming a finished scan
while another scan filled the budget was closed with 1008 "the scan is not
known here any more" (seen in CI: a reader of a finished scan opened just
as a 2,000,000-symbol scan's records arrived).  Now a finished log that a
stream reads is trimmed only as the biggest log would be, and another
log gives the room.

A: 24,000 symbols, finished, about 10 MB of log.  A WebSocket reader of A
from its start reads a little and stops reading (a small receive buffer:
most of A stays in the gateway).  B: 60,000 symbols, about 25 MB, runs
and finishes with the budget at 32 MB, so room must go.  Then the reader
reads on: every record of A, in order, and the close 1000 "complete".

C: a stream of signals and events only (?signals=1) has nothing to lose
in results that are no signal: it must not be cut for "falling behind"
when those leave the log's front before it skims past them (seen in CI:
integration.gateway_abuse's signal streams of a 2,000,000-symbol scan
that never signals, closed with 1008 "fell too far behind" when the
front was trimmed).  C: 150,000 symbols with a filter that never
signals, about 60 MB of log in the 32 MB budget, so its front goes.
A signal stream from after its position 2 (long cut) reads C's events
to the close 1000 "complete", no result among them; a stream of every
record from there is still told it fell too far behind (1008)."""
import asyncio
import struct
import time

from gwharness import Gateway, RawFrames, raw_upgrade, ws_records
from zsharness import Client, Cluster, check, log

A, B = 24000, 60000


with Cluster(workers=2, threads=1, data="synthetic:bars=60") as cluster:
    client = Client(cluster)
    client.wait_ready()
    client.wait_workers(2)
    with Gateway(cluster, "--log-mb", "32") as gw:
        def finish(sid, timeout=120):
            deadline = time.time() + timeout
            while time.time() < deadline:
                if gw.json("GET", "/scan/stats/" + sid)["state"] == "finished":
                    return
                time.sleep(0.1)
            check(False, "scan %s did not finish" % sid)

        def log_bytes():
            text = gw.request("GET", "/metrics")[1].decode()
            return [l for l in text.splitlines()
                    if l.startswith("zscan_gateway_log_")]

        a = gw.start(universe="synthetic:%d" % A)["scan_id"]
        finish(a)
        time.sleep(0.5)  # its last records are in the gateway's log
        log("A's log: %s" % log_bytes())
        s = raw_upgrade(gw.port, "/ws/results/" + a, rcvbuf=16384)
        r = RawFrames(s)
        check(b" 101 " in r.headers(), "the upgrade was refused")
        op, first = r.frame()
        check(op == 1 and b'"seq":1,' in first[:100], "first frame: %r" % first[:80])
        seqs = []

        def take(payload):
            for line in payload.split(b"\n"):
                i = line.index(b'"seq":') + 6
                seqs.append(int(line[i:line.index(b",", i)]))

        take(first)
        # the reader stops reading; B fills the budget meanwhile
        b = gw.start(universe="synthetic:%d" % B)["scan_id"]
        finish(b)
        time.sleep(0.5)
        log("the logs after B: %s" % log_bytes())
        # the reader reads on
        while True:
            op, payload = r.frame()
            if op == 8:
                code = struct.unpack(">H", payload[:2])[0]
                reason = payload[2:].decode()
                break
            take(payload)
        s.close()
        check(code == 1000 and reason == "complete",
              "the reader of A was closed with %d %r after %d records"
              % (code, reason, len(seqs)))
        check(seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= A + 2,
              "A's records: %d, in order: %s"
              % (len(seqs), [(i + 1, q) for i, q in enumerate(seqs)
                             if q != i + 1][:5]))
        log("ok: a reader of a finished scan read all %d records while "
            "another scan's filled the log budget" % len(seqs))

        c = gw.start(universe="synthetic:150000", filter="close < 0")[
            "scan_id"]
        finish(c)
        time.sleep(0.5)
        log("the logs after C: %s" % log_bytes())
        url = gw.ws + "/ws/results/%s?after=2" % c
        recs, code, reason = asyncio.run(ws_records(url + "&signals=1"))
        kinds = sorted(set(r["type"] for r in recs))
        check(code == 1000 and reason == "complete"
              and recs and recs[-1]["type"] == "complete"
              and "result" not in kinds,
              "a signal stream of C from position 2: %r %r, %d records %r"
              % (code, reason, len(recs), kinds))
        recs, code, reason = asyncio.run(ws_records(url))
        check(code == 1008 and "fell too far behind" in reason,
              "a stream of every record of C from position 2: %r %r after "
              "%d records" % (code, reason, len(recs)))
        log("ok: a signal stream skips results that left the log; a full "
            "one is told it fell behind")
