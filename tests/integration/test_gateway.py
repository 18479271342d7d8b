"""The gateway with real clients (issue 18): Debian's python3-websockets,
SSE over raw sockets, urllib for REST, polling and export.

1. Exactly the same records everywhere: a max_signals scan, 20 WebSocket
   and 10 SSE clients connected right after the POST, and 5 WebSocket
   clients of a second gateway: all get the same records at the same
   positions, exactly N signals, then complete (max_signals); WebSocket
   streams close with 1000 "complete".
2. Late joiners: after the end, and on a gateway started mid-scan.
3. Resume: SSE Last-Event-ID, WebSocket ?after=, polling after=; an SSE
   reconnect after a scan's end gets 204.
4. Stop: a WebSocket client's {"action": "stop"}, POST /scan/stop,
   DELETE; stats; lists; export (NDJSON, CSV, gzip).
5. /metrics counts what went by; /healthz answers.
"""
import asyncio
import gzip
import http.client
import json
import os
import socket
import threading
import time

from gwharness import Gateway, sse_events, websockets, ws_records
from zsharness import Cluster, Client, check, log, split

if websockets is None:
    check(False, "python3-websockets is missing (Debian: python3-websockets)")

N_SIG = 7


def positions(recs):
    return [r["seq"] for r in recs]


def same(a, b):
    return [(r["seq"], r["type"], r["data"].get("symbol")) for r in a] == \
        [(r["seq"], r["type"], r["data"].get("symbol")) for r in b]


with Cluster(workers=2, threads=1, data="synthetic:bars=60",
             worker_args=["--symbol-delay-us", "100"]) as cluster:
    client = Client(cluster)
    client.wait_ready()
    client.wait_workers(2)
    with Gateway(cluster) as gw, Gateway(cluster) as gw2:
        # 1. many clients, two gateways, one scan
        started = gw.start(universe="synthetic:20000",
                           termination_criteria={"max_signals": N_SIG})
        sid = started["scan_id"]
        check(started["websocket_url"].endswith("/ws/results/" + sid)
              and started["total"] == 20000, "POST answer: %r" % started)
        sse_out = [None] * 10

        def sse_reader(k):
            sse_out[k] = sse_events(gw.port, "/events/results/" + sid)

        threads = [threading.Thread(target=sse_reader, args=(k,))
                   for k in range(10)]
        for t in threads:
            t.start()

        async def many():
            urls = ([gw.ws + "/ws/results/" + sid] * 20
                    + [gw2.ws + "/ws/results/" + sid] * 5)
            return await asyncio.gather(*[ws_records(u) for u in urls])

        wsres = asyncio.run(many())
        for t in threads:
            t.join(60)
        first = wsres[0][0]
        check(first and first[-1]["type"] == "complete"
              and first[-1]["data"]["reason"] == "max_signals",
              "the first client ends with complete/max_signals: %r"
              % (first[-1] if first else None))
        check(positions(first) == list(range(1, len(first) + 1)),
              "positions 1..%d without a gap" % len(first))
        sig = [r for r in first if r["type"] == "result"
               and r["data"]["signal"]]
        check(len(sig) == N_SIG, "exactly %d signals, got %d"
              % (N_SIG, len(sig)))
        for k, (recs, code, reason) in enumerate(wsres):
            check(same(recs, first), "WebSocket client %d saw other "
                  "records (%d vs %d)" % (k, len(recs), len(first)))
            check(code == 1000 and reason == "complete",
                  "client %d closed %r %r" % (k, code, reason))
        for k, (status, evs) in enumerate(sse_out):
            recs = [json.loads(e["data"]) for e in evs]
            check(status == 200 and same(recs, first)
                  and [int(e["id"]) for e in evs] == positions(first),
                  "SSE client %d saw other records" % k)
        log("ok: 25 WebSocket clients (2 gateways) and 10 SSE clients got "
            "the same %d records, %d signals, then complete"
            % (len(first), N_SIG))

        # 2. a late joiner after the end gets it all
        recs, code, _ = asyncio.run(ws_records(gw.ws + "/ws/results/" + sid))
        check(same(recs, first) and code == 1000, "late WebSocket joiner")
        # ?format=msgpack: binary frames, the same records, the same values
        recs, code, _ = asyncio.run(ws_records(
            gw.ws + "/ws/results/%s?format=msgpack" % sid))
        # (data is the broker's record as it was: with its "v", "type"
        # and delivery fields, without the fields left at their defaults)
        def agrees(m, j):
            common = set(m["data"]) & set(j["data"])
            need = ({"symbol", "score", "price", "values", "signal"}
                    if m["type"] == "result" else {"scan"})
            return ((m["seq"], m["type"]) == (j["seq"], j["type"])
                    and need <= common
                    and all(m["data"][k] == j["data"][k] for k in common))
        check(len(recs) == len(first) and code == 1000
              and all(agrees(m, j) for m, j in zip(recs, first))
              and sum(len(m["data"]) for m in recs) > 10 * len(recs),
              "msgpack records agree with the JSON ones (%d vs %d; first "
              "difference %r)" % (len(recs), len(first), next(
                  ((a, b) for a, b in zip(recs, first) if not agrees(a, b)),
                  None)))
        recs, code, reason = asyncio.run(ws_records(
            gw.ws + "/ws/results/%s?format=xml" % sid))
        check(not recs and code == 1008 and "msgpack" in reason,
              "?format=xml closes 1008: %r %r" % (code, reason))
        # 3. resume
        k = len(first) // 2
        recs, _, _ = asyncio.run(ws_records(
            gw.ws + "/ws/results/%s?after=%d" % (sid, k)))
        check(positions(recs) == positions(first)[k:],
              "WebSocket ?after=%d resumes at %d" % (k, k + 1))
        status, evs = sse_events(gw.port, "/events/results/" + sid,
                                 {"Last-Event-ID": str(k)})
        check([int(e["id"]) for e in evs] == positions(first)[k:],
              "SSE Last-Event-ID resumes")
        status, evs = sse_events(gw.port, "/events/results/" + sid,
                                 {"Last-Event-ID": str(len(first))})
        check(status == 204, "SSE after the end: %s" % status)
        page = gw.json("GET", "/scan/results/%s?after=%d&limit=5" % (sid, k))
        check(positions(page["records"]) == positions(first)[k:k + 5]
              and page["next"] == k + 5 and not page["done"],
              "poll after=%d: %r" % (k, page["next"]))
        page = gw.json("GET", "/scan/results/%s?after=%d&limit=10000"
                       % (sid, len(first) - 2))
        check(page["done"] and page["next"] == len(first), "poll to the end")
        log("ok: late joiner, WebSocket ?after, SSE Last-Event-ID (and 204 "
            "after the end), polling")

        # export
        status, body = gw.request("GET", "/scan/export/" + sid)
        lines = [json.loads(x) for x in body.decode().splitlines()]
        check(status == 200 and same(lines, first), "NDJSON export")
        status, body = gw.request("GET", "/scan/export/%s?format=csv" % sid)
        rows = body.decode().splitlines()
        nres = sum(1 for r in first if r["type"] == "result")
        check(status == 200 and rows[0].startswith("seq,symbol")
              and len(rows) == 1 + nres, "CSV export: %d rows" % len(rows))
        status, body = gw.request("GET", "/scan/export/" + sid,
                                  headers={"accept-encoding": "gzip"})
        lines = [json.loads(x) for x in
                 gzip.decompress(body).decode().splitlines()]
        check(status == 200 and same(lines, first), "gzip export")
        stats = gw.json("GET", "/scan/stats/" + sid)
        check(stats["state"] == "finished" and stats["reason"] ==
              "max_signals" and stats["signals"] == N_SIG
              and stats["work_saved"] > 0, "stats: %r" % stats)
        log("ok: exports (NDJSON, CSV, gzip) and stats")

        # 4. stop by a WebSocket client; POST stop; DELETE
        s2 = gw.start(universe="synthetic:200000")["scan_id"]

        async def stopper(ws, out):
            if len(out) >= 50 and not getattr(stopper, "sent", False):
                stopper.sent = True
                await ws.send(json.dumps({"action": "stop"}))

        recs, code, _ = asyncio.run(ws_records(
            gw.ws + "/ws/results/" + s2, reader=stopper))
        check(recs[-1]["type"] == "complete"
              and recs[-1]["data"]["reason"] == "stopped"
              and recs[-1]["data"]["unscanned"] > 0,
              "a WebSocket client stopped the scan: %r" % recs[-1]["data"])
        s3 = gw.start(universe="synthetic:200000")["scan_id"]
        time.sleep(0.3)
        rep = gw.json("POST", "/scan/stop/" + s3)
        check(rep["reason"] == "stopped", "POST stop: %r" % rep)
        rep = gw.json("POST", "/scan/stop/" + s3)  # idempotent
        active = gw.json("GET", "/scans/active")["scans"]
        check(not any(s["scan_id"] in (s2, s3) for s in active),
              "stopped scans are not active")
        every = gw.json("GET", "/scans/active?all=1")["scans"]
        check(any(s["scan_id"] == s3 for s in every), "?all=1 lists them")
        rep = gw.json("DELETE", "/scan/" + s3)
        workers = gw.json("GET", "/workers")["workers"]
        check(len(workers) == 2, "workers: %r" % workers)
        gw.json("GET", "/scan/stats/nosuchscan", want=404)
        log("ok: stop by a WebSocket frame, POST stop (twice), DELETE, "
            "lists")

        # 4b. one kept-alive connection, several requests with bodies: each
        # is answered, and each body is given back (under ASan the gateway
        # exits non-zero if the next request's reset forgot one)
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
        kept = []
        for k in range(3):
            conn.request("POST", "/scan/stream", json.dumps(
                {"universe": "synthetic:50"}),
                {"content-type": "application/json"})
            r = conn.getresponse()
            body = json.loads(r.read())
            check(r.status == 201, "keep-alive POST %d: %d %r"
                  % (k, r.status, body))
            kept.append(body["scan_id"])
        conn.request("GET", "/scan/stats/" + kept[0])
        r = conn.getresponse()
        check(r.status == 200 and json.loads(r.read())["scan_id"] == kept[0],
              "a GET after POSTs on the same connection")
        conn.close()
        log("ok: three POSTs and a GET on one kept-alive connection")

        # 2b. a gateway started after the scan began
        s4 = gw.start(universe="synthetic:6000")["scan_id"]
        time.sleep(0.3)
        with Gateway(cluster) as gw3:
            recs, code, _ = asyncio.run(ws_records(
                gw3.ws + "/ws/results/" + s4))
            ref, _, _ = asyncio.run(ws_records(gw.ws + "/ws/results/" + s4))
            check(positions(recs) == list(range(1, len(recs) + 1))
                  and same(recs, ref),
                  "a gateway started mid-scan serves it from its start "
                  "(%d records)" % len(recs))
        log("ok: a gateway started mid-scan filled what it missed from "
            "the broker's history")

        # 4c. more SSE streams than lws's header pool (256): each gives its
        # request headers back once it streams; new requests still served
        s5 = gw.start(universe="synthetic:200000")["scan_id"]
        held = []
        for k in range(300):
            c = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
            c.sendall(("GET /events/results/%s HTTP/1.1\r\nHost: x\r\n"
                       "Accept: text/event-stream\r\n\r\n" % s5).encode())
            held.append(c)
        deadline = time.time() + 10
        open_sse = -1
        while time.time() < deadline:
            status, text = gw.request("GET", "/metrics", timeout=5)
            for line in text.decode().splitlines():
                if line.startswith('zscan_gateway_connections{kind="sse"}'):
                    open_sse = int(line.split()[-1])
            if open_sse >= 300:
                break
            time.sleep(0.2)
        check(open_sse >= 300, "SSE streams open: %d of 300" % open_sse)
        status, _ = gw.request("GET", "/healthz", timeout=5)
        check(status == 200, "/healthz beside 300 SSE streams: %d" % status)
        gw.json("POST", "/scan/stop/" + s5)
        for c in held:
            c.close()
        log("ok: 300 SSE streams at once (more than lws's 256 header "
            "slots), the gateway still answers")

        # 4d. a reader that keeps up gets whole frames in one write each
        # (lws cuts a write into pieces of the protocol's tx_packet_size,
        # or of its rx buffer's size when that is 0, and sends one piece
        # per writable callback: a gateway doing so buffers nearly every
        # frame)
        s6 = gw.start(universe="synthetic:20000")["scan_id"]
        deadline = time.time() + 60
        while (gw.json("GET", "/scan/stats/" + s6)["state"] != "finished"
               and time.time() < deadline):
            time.sleep(0.2)

        def counters():
            _, t = gw.request("GET", "/metrics")
            got = {}
            for line in t.decode().splitlines():
                for name in ("zscan_gateway_frames_sent_total",
                             "zscan_gateway_writes_buffered_total"):
                    if line.startswith(name + " "):
                        got[name] = float(line.split()[1])
            return got

        before = counters()
        fast = socket.create_connection(("127.0.0.1", gw.port), timeout=20)
        fast.sendall(("GET /ws/results/%s HTTP/1.1\r\nHost: x\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n" % s6).encode())
        got = 0
        while True:
            chunk = fast.recv(1 << 20)
            if not chunk:
                break
            got += len(chunk)
        fast.close()
        after = counters()
        frames = (after["zscan_gateway_frames_sent_total"]
                  - before["zscan_gateway_frames_sent_total"])
        buffered = (after["zscan_gateway_writes_buffered_total"]
                    - before["zscan_gateway_writes_buffered_total"])
        check(got > 20000 * 100 and frames >= 20 and buffered <= frames / 4,
              "a fast reader: %d bytes in %d frames, %d of them buffered "
              "by lws" % (got, frames, buffered))
        log("ok: a fast reader got %d bytes in %d frames, %d buffered"
            % (got, frames, buffered))

        # 5. metrics and health
        status, text = gw.request("GET", "/metrics")
        text = text.decode()

        def metric(name):
            for line in text.splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
            return None

        check(status == 200 and metric("zscan_bus_records_total") > 0
              and metric("zscan_scans_finished_total") >= 3
              and metric("zscan_broker_up") == 1
              and metric("zscan_gateway_records_sent_total") > 1000
              # frames carry several records when a client is behind
              and 0 < metric("zscan_gateway_frames_sent_total")
              <= metric("zscan_gateway_records_sent_total")
              # the heap by malloc's count: the log's records among what
              # is in use (in the heap, or mapped on their own); under
              # AddressSanitizer, whose allocator glibc's mallinfo2 does
              # not see, only present
              and metric("zscan_gateway_log_bytes") > 0
              and (os.environ.get("ZS_SANITIZED")
                   or metric('zscan_gateway_heap_bytes{state="in_use"}')
                   + metric('zscan_gateway_heap_bytes{state="mapped"}')
                   > metric("zscan_gateway_log_bytes"))
              and metric('zscan_gateway_heap_bytes{state="free"}')
              is not None,
              "metrics: %s" % text[:500])
        health = gw.json("GET", "/healthz")
        check(health["status"] == "ok", "health: %r" % health)
        log("ok: /metrics and /healthz")
    client.close()
