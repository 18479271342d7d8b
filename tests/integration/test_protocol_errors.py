"""What a client author found in PROTOCOL.md (issue 17, section 6): the
spec and the broker agree on every error.

- `req` is echoed on every error reply whenever the request carried a
  readable one: a bad field (400), a missing `v` (400), a `v` that is not
  a number (400), another version (505), not a request type (400).
- `strategy` with `filter` is a bad definition: 422.
- a truncated map says "truncated".
- filter positions count characters from 1.
- 409 also covers a finished scan the broker still remembers.
"""
import msgpack

from zsharness import Cluster, Client, check, log, pack, unpack


def raw(client, body_bytes):
    client.dealer.send(body_bytes)
    check(client.dealer.poll(5000), "no reply")
    return unpack(client.dealer.recv_multipart()[-1])


with Cluster(workers=1, threads=1, data="synthetic:bars=60") as cluster:
    client = Client(cluster)
    client.wait_ready()
    cases = [
        ("bad id", {"v": 2, "type": "scan_start", "scan": "bad id!"}, 400,
         "scan is not an id"),
        ("no v", {"type": "scan_status", "scan": "x"}, 400,
         "missing protocol version"),
        ("v as a string", {"v": "1", "type": "scan_status", "scan": "x"},
         400, "v: want the protocol version number"),
        ("version 1", {"v": 1, "type": "scan_status", "scan": "x"}, 505,
         "unsupported protocol version 1"),
        ("not a request", {"v": 2, "type": "heartbeat", "worker": "w"}, 400,
         "not a request"),
        ("unknown type", {"v": 2, "type": "scan_explode"}, 400,
         "unknown message type"),
        ("strategy and filter",
         {"v": 2, "type": "scan_start", "def": {"strategy": "rsi_oversold",
                                                "filter": "close > 1"}},
         422, "not both"),
        ("filter position", {"v": 2, "type": "scan_start",
                             "def": {"filter": "foo(3) > 1"}}, 422,
         "position 1:"),
        ("filter position 12", {"v": 2, "type": "scan_start",
                                "def": {"filter": "close > sma(20"}}, 422,
         "position 15"),
    ]
    for k, (name, body, code, text) in enumerate(cases):
        body = dict(body)
        body["req"] = 1000 + k
        rep = raw(client, pack(body))
        check(rep.get("type") == "error" and rep.get("code") == code
              and rep.get("req") == 1000 + k and text in rep["message"],
              "%s: want %d with req %d and %r: %r"
              % (name, code, 1000 + k, text, rep))
    # a map that claims more entries than it has
    whole = pack({"v": 2, "type": "scan_status", "req": 77, "scan": "abc"})
    rep = raw(client, whole[:-4])
    check(rep.get("type") == "error" and rep["code"] == 400
          and "truncated" in rep["message"],
          "truncated map: %r" % (rep,))
    # 409 for a finished scan still remembered
    client.start_scan("done1", universe="synthetic:50")
    client.records(timeout=30)
    rep = client.request({"type": "scan_start", "scan": "done1"})
    check(rep.get("type") == "error" and rep["code"] == 409
          and "finished" in rep["message"], "409 finished: %r" % (rep,))
    log("ok: %d error cases answer as PROTOCOL.md says, req echoed"
        % (len(cases) + 2))
    client.close()
