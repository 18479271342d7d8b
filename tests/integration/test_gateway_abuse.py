"""The gateway under slow and hostile clients, and SIGTERM (issue 18,
promises 4-6).

- A WebSocket client that stops reading (a raw socket that upgrades and
  never reads) does not slow a healthy client of the same scan, and is
  cut (stalled or too far behind), counted in /metrics.
- Hostile requests each get their HTTP error with a JSON body, and the
  gateway goes on serving: a body too large (413), not JSON (400), the
  wrong content type (415), an unknown endpoint (404), the wrong method
  (405), a path that climbs (404), an unknown scan (404), malformed HTTP,
  an oversized header, a bad upgrade, a WebSocket frame that is not
  {"action":"stop"} (closed 1003), a thousand connects and disconnects.
- SIGTERM: new connections refused, every stream ends with a reason
  (WebSocket 1001, SSE an "end" event), exit 0.
- A bearer token, TLS (HTTPS and WSS) and CORS from the command line.
"""
import asyncio
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.request

from gwharness import (Gateway, raw_upgrade, sse_events, websockets,
                       ws_records)
from zsharness import Cluster, Client, check, log

if websockets is None:
    check(False, "python3-websockets is missing")


def raw(port, data, read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(data)
        return s.recv(4096) if read else b""
    except OSError:
        return b""
    finally:
        s.close()


def metric(text, name):
    total = 0.0
    found = False
    for line in text.splitlines():
        if line.startswith(name):
            total += float(line.split()[-1])
            found = True
    return total if found else None


with Cluster(workers=2, threads=1, data="synthetic:bars=60") as cluster:
    client = Client(cluster)
    client.wait_ready()
    client.wait_workers(2)
    with Gateway(cluster, "--stall-ms", "1000") as gw:
        # a stalled reader beside a healthy one
        sid = gw.start(universe="synthetic:200000")["scan_id"]
        stalled = raw_upgrade(gw.port, "/ws/results/" + sid)
        t0 = time.time()
        recs, code, reason = asyncio.run(ws_records(
            gw.ws + "/ws/results/" + sid, timeout=60))
        took = time.time() - t0
        check(recs and recs[-1]["type"] == "complete"
              and [r["seq"] for r in recs] == list(range(1, len(recs) + 1)),
              "the healthy client got all %d records" % len(recs))
        time.sleep(1.5)
        status, text = gw.request("GET", "/metrics")
        dropped = metric(text.decode(),
                         "zscan_gateway_clients_dropped_total")
        check(dropped and dropped >= 1,
              "the stalled client was cut: %r" % dropped)
        stalled.close()
        log("ok: a stalled WebSocket reader was cut; the healthy one got "
            "%d records in %.1f s" % (len(recs), took))

        # hostile requests: an error with a JSON body each
        cases = [
            ("POST", "/scan/stream", b"{" + b" " * (2 << 20) + b"}",
             {"content-type": "application/json"}, 413),
            ("POST", "/scan/stream", b"{not json",
             {"content-type": "application/json"}, 400),
            ("POST", "/scan/stream", b'{"universe": 5}',
             {"content-type": "application/json"}, 400),
            ("POST", "/scan/stream", b'{"universe":"synthetic:10"}',
             {"content-type": "text/plain"}, 415),
            ("POST", "/scan/stream", b'{"filter":"rsi(14) <"}',
             {"content-type": "application/json"}, 422),
            ("GET", "/nope", None, {}, 404),
            ("GET", "/scan/stream", None, {}, 405),
            ("DELETE", "/scans/active", None, {}, 405),
            ("GET", "/scan/stats/..%2F..%2Fetc%2Fpasswd", None, {}, 404),
            ("GET", "/scan/stats/../../etc/passwd", None, {}, 404),
            ("GET", "/scan/stats/nosuch", None, {}, 404),
            ("GET", "/ws/results/" + sid, None, {}, 400),
        ]
        for method, path, body, headers, want in cases:
            status, data = gw.request(method, path, body, headers)
            ok = status == want
            if ok and data:
                err = json.loads(data).get("error", {})
                ok = err.get("code") == want and err.get("message")
            check(ok, "%s %s: %d %r (want %d)"
                  % (method, path[:40], status, data[:200], want))
        # malformed HTTP, an oversized header, a bad upgrade, a WebSocket
        # frame we do not take
        raw(gw.port, b"GARBAGE\r\n\r\n")
        raw(gw.port, b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 100000
            + b"\r\n\r\n")
        raw(gw.port, b"GET /ws/results/bad%20id HTTP/1.1\r\nHost: x\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n")

        # (on a scan still running: a finished one may close first)
        # (a filter that never signals, read as signals and events only:
        # a Python reader is not outrun and cut before its frame counts)
        s1 = gw.start(universe="synthetic:2000000",
                      filter="close < 0")["scan_id"]

        async def bad_frame(text="hello"):
            async with websockets.connect(gw.ws + "/ws/results/" + s1
                                          + "?signals=1") as w:
                await w.send(text)
                try:
                    while True:
                        await asyncio.wait_for(w.recv(), 10)
                except websockets.ConnectionClosed:
                    pass
                return w.close_code

        check(asyncio.run(bad_frame()) == 1003,
              "a frame that is not a stop closes with 1003")
        # a stop longer than 255 bytes (the documented bound) is refused
        # too, and the scan goes on
        check(asyncio.run(bad_frame('{"action":"stop"' + " " * 300 + "}"))
              == 1003
              and gw.json("GET", "/scan/stats/" + s1)["state"] == "running",
              "a 318-byte stop frame closes with 1003, the scan runs on")
        # quiet WebSocket streams (no permessage-deflate) hold no frame
        # buffer of their own once their records went: 20 of them on the
        # running scan, reading what they are sent
        quiet = [raw_upgrade(gw.port, "/ws/results/%s?signals=1" % s1)
                 for _ in range(20)]
        time.sleep(1.0)
        for q in quiet:
            q.setblocking(False)
            try:
                while q.recv(65536):
                    pass
            except OSError:
                pass
        status, text = gw.request("GET", "/metrics")
        held = metric(text.decode(), "zscan_gateway_stream_buffer_bytes")
        conns = metric(text.decode(), 'zscan_gateway_connections{kind="ws"}')
        check(held == 0 and conns >= 20,
              "quiet streams hold frame buffers: %r bytes (%r open)"
              % (held, conns))
        for q in quiet:
            q.close()
        log("ok: 20 quiet WebSocket streams hold no frame buffer")
        gw.json("POST", "/scan/stop/" + s1)
        # after the end, ?after=last closes at once: nothing more to come
        last = gw.json("GET", "/scan/stats/" + sid)["seq"]
        recs, code, reason = asyncio.run(ws_records(
            gw.ws + "/ws/results/%s?after=%d" % (sid, last), timeout=10))
        check(recs == [] and code == 1000 and reason == "complete",
              "after the last record: %r %r %d records" % (code, reason,
                                                          len(recs)))
        # a thousand connects and disconnects
        for _ in range(1000):
            try:
                socket.create_connection(("127.0.0.1", gw.port),
                                         timeout=2).close()
            except OSError:
                pass
        status, data = gw.request("GET", "/healthz")
        check(status == 200, "still serving: %d" % status)
        status, text = gw.request("GET", "/metrics")
        rejected = metric(text.decode(),
                          "zscan_gateway_requests_rejected_total")
        check(rejected and rejected >= 10, "rejects counted: %r" % rejected)
        log("ok: %d hostile requests answered with their errors, garbage, "
            "a big header, a bad upgrade, a bad frame, 1000 connects: "
            "still serving" % len(cases))

        # SIGTERM with streams open (signals and events only, of a filter
        # that never signals: a reader in Python keeps up with those,
        # where the whole scan, 500k+ records/s, or even its signals,
        # would outrun it, and the gateway would rightly cut it for
        # falling behind its log before the signal came)
        s2 = gw.start(universe="synthetic:2000000",
                      filter="close < 0")["scan_id"]
        results = {}

        def sse():
            results["sse"] = sse_events(gw.port, "/events/results/" + s2
                                        + "?signals=1", until=("end",),
                                        timeout=30)

        th = threading.Thread(target=sse)
        th.start()

        async def ws_then_term():
            task = asyncio.ensure_future(asyncio.gather(*[
                ws_records(gw.ws + "/ws/results/" + s2 + "?signals=1",
                           timeout=30)
                for _ in range(3)]))
            await asyncio.sleep(1.0)
            gw.proc.terminate()
            return await task

        outs = asyncio.run(ws_then_term())
        th.join(30)
        rc = gw.proc.wait(15)
        for recs, code, reason in outs:
            check(code == 1001 and "shutting down" in reason,
                  "a WebSocket stream ended with %r %r" % (code, reason))
        status, evs = results.get("sse", (None, []))
        check(evs and evs[-1]["event"] == "end"
              and "shutting down" in evs[-1]["data"],
              "the SSE stream ended with a reason: %r"
              % (evs[-1] if evs else None))
        check(rc == 0, "the gateway exited %d on SIGTERM" % rc)
        try:
            socket.create_connection(("127.0.0.1", gw.port), timeout=1)
            refused = False
        except OSError:
            refused = True
        check(refused, "no new connections after SIGTERM")
        log("ok: SIGTERM: 3 WebSocket and 1 SSE stream ended with a "
            "reason, exit 0")

    # a bearer token, TLS and CORS, from the command line
    tmp = tempfile.mkdtemp(prefix="zscan-tls-")
    try:
        cert, key = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                        "-subj", "/CN=localhost"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ctx = ssl.create_default_context(cafile=cert)
        ctx.check_hostname = False
        with Gateway(cluster, "--token", "s3cret", "--tls-cert", cert,
                     "--tls-key", key, "--cors", "https://dash.example",
                     ssl_context=ctx) as tg:
            base = "https://127.0.0.1:%d" % tg.port

            def call(path, method="GET", body=None, headers=None):
                req = urllib.request.Request(base + path, data=body,
                                             method=method,
                                             headers=headers or {})
                try:
                    with urllib.request.urlopen(req, context=ctx) as r:
                        return r.status, r.read(), r.headers
                except urllib.error.HTTPError as e:
                    return e.code, e.read(), e.headers

            status, _, _ = call("/scans/active")
            check(status == 401, "no token: %d" % status)
            auth = {"authorization": "Bearer s3cret",
                    "content-type": "application/json"}
            status, body, hdrs = call("/scan/stream", "POST",
                                      b'{"universe":"synthetic:300"}', auth)
            check(status == 201 and body.startswith(b'{"scan_id"')
                  and b"wss://" in body
                  and hdrs.get("access-control-allow-origin")
                  == "https://dash.example",
                  "start over TLS with the token: %d %r" % (status, body))
            sid3 = json.loads(body)["scan_id"]
            status, _, _ = call("/scan/stats/%s?token=s3cret" % sid3)
            check(status == 200, "?token= works: %d" % status)

            async def wss(url):
                async with websockets.connect(url, ssl=ctx) as w:
                    kinds = {}
                    async for frame in w:
                        for line in frame.split("\n"):
                            t = json.loads(line)["type"]
                            kinds[t] = kinds.get(t, 0) + 1
                    return kinds, w.close_code

            # (progress records come every 250 ms while it runs: as many
            # as its time took, none when it was quick)
            kinds, code = asyncio.run(wss("wss://127.0.0.1:%d/ws/results/%s"
                                          "?token=s3cret" % (tg.port, sid3)))
            check(kinds.get("result") == 300 and kinds.get("started") == 1
                  and kinds.get("complete") == 1 and code == 1000,
                  "WSS with the token: %r %r" % (kinds, code))
            refused = False
            try:
                asyncio.run(wss("wss://127.0.0.1:%d/ws/results/%s"
                                % (tg.port, sid3)))
            except Exception:  # noqa: BLE001 - any refusal will do
                refused = True
            check(refused, "WSS without the token is refused")
        log("ok: TLS (HTTPS, WSS), the bearer token (header, ?token=) and "
            "CORS")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    client.close()
