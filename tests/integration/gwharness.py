"""Gateway test helpers: a zscan-gateway process on a free port, and
real HTTP, SSE and WebSocket clients (urllib, raw sockets, Debian's
python3-websockets)."""
import asyncio
import base64
import json
import msgpack
import os
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request

from zsharness import BIN, check, fail

try:
    import websockets
except ImportError:  # checked where it is needed
    websockets = None


class Gateway:
    """zscan-gateway against a cluster, on a free port; a context
    manager that stops it (SIGTERM) and checks it exits 0."""

    def __init__(self, cluster, *args, ssl_context=None):
        self.argv = [os.path.join(BIN, "zscan-gateway"), "--listen",
                     "127.0.0.1", "--http-port", "0", "--port",
                     str(cluster.base), "--log-level", "warn"] + list(args)
        self.proc = None
        self.port = None
        self.ssl = ssl_context

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE,
                                     stderr=None)
        line = self.proc.stdout.readline().decode()
        check("http://" in line, "the gateway printed no URL: %r" % line)
        self.port = int(line.rsplit(":", 1)[1].strip().strip("/"))
        tls = "s" if self.ssl else ""
        self.base = "http%s://127.0.0.1:%d" % (tls, self.port)
        self.ws = "ws%s://127.0.0.1:%d" % (tls, self.port)
        # ready when the broker answers through it
        deadline = time.time() + 10
        while time.time() < deadline:
            status, _ = self.get("/healthz")
            if status == 200:
                return self
            time.sleep(0.1)
        fail("the gateway never saw the broker")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                fail("the gateway did not stop on SIGTERM")
        return self.proc.returncode

    def __exit__(self, *exc):
        rc = self.stop()
        if exc[0] is None:
            check(rc == 0, "the gateway exited with %d" % rc)
        return False

    def request(self, method, path, body=None, headers=None, timeout=10):
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(
                body).encode()
            hdrs.setdefault("content-type", "application/json")
        req = urllib.request.Request(self.base + path, data=data,
                                     method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout,
                                        context=self.ssl) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def get(self, path, **kw):
        try:
            return self.request("GET", path, **kw)
        except OSError:
            return 0, b""

    def json(self, method, path, body=None, want=200, headers=None):
        status, data = self.request(method, path, body, headers)
        check(status == want, "%s %s: %d %r (want %d)"
              % (method, path, status, data[:300], want))
        return json.loads(data) if data else None

    def start(self, **fields):
        return self.json("POST", "/scan/stream", fields, want=201)


def raw_upgrade(port, path, rcvbuf=4096):
    """A WebSocket client on a raw socket with a small receive buffer: it
    upgrades, then reads only when told (a stalled or paused reader)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
    return s


class RawFrames:
    """The server's frames (unmasked) read from a raw_upgrade socket."""

    def __init__(self, s):
        self.s, self.buf = s, b""

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(262144)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def headers(self):
        """The upgrade's response head."""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(4096)
            if not chunk:
                raise EOFError("closed during the upgrade")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head

    def frame(self):
        """(opcode, payload) of the next frame."""
        b0, b1 = self._need(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._need(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._need(8))[0]
        return b0 & 0x0F, self._need(n)


def sse_events(port, path, headers=None, timeout=30, until=("complete",)):
    """Reads an SSE stream over a raw socket: [(id, event, data)] until
    an event in `until` or the stream's end."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    req = "GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" % path
    for k, v in (headers or {}).items():
        req += "%s: %s\r\n" % (k, v)
    s.sendall((req + "\r\n").encode())
    buf = b""
    events = []
    status = None
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            if status is None and b"\r\n\r\n" in buf:
                head, buf = buf.split(b"\r\n\r\n", 1)
                status = int(head.split(b" ")[1])
                if status != 200:
                    break
            while status == 200 and b"\n\n" in buf:
                block, buf = buf.split(b"\n\n", 1)
                ev = {"id": None, "event": "message", "data": ""}
                for line in block.decode().split("\n"):
                    if line.startswith(":") or not line:
                        continue
                    k, _, v = line.partition(": ")
                    if k in ("id", "event", "data"):
                        ev[k] = v
                if ev["data"] or ev["event"] == "end":
                    events.append(ev)
                    if ev["event"] in until:
                        return status, events
    finally:
        s.close()
    return status, events


async def ws_records(url, until="complete", timeout=30, reader=None):
    """Every record a WebSocket stream sends (frames may hold several,
    one per line), until `until` or the close; returns (records,
    close code, close reason)."""
    out = []
    async with websockets.connect(url, max_size=None,
                                  open_timeout=10) as ws:
        try:
            while True:
                frame = await asyncio.wait_for(ws.recv(), timeout)
                if isinstance(frame, bytes):
                    # ?format=msgpack: maps one after another
                    unpacker = msgpack.Unpacker(raw=False)
                    unpacker.feed(frame)
                    out.extend(unpacker)
                else:
                    for line in frame.split("\n"):
                        out.append(json.loads(line))
                if reader:
                    await reader(ws, out)
                if until and out and out[-1]["type"] == until:
                    break
        except websockets.ConnectionClosed:
            pass
        try:
            await asyncio.wait_for(ws.wait_closed(), 5)
        except asyncio.TimeoutError:
            pass
        return out, ws.close_code, ws.close_reason
