"""Cross-language check of proto/PROTOCOL.md with Debian's python3-msgpack:
(1) Python decodes every C encoding and finds the fields the spec names;
(2) Python encodes each message its own way (keys reordered, whole floats
as ints, unknown extra keys with nested values) and the C decoder accepts
it with the same values."""
import os
import subprocess
import sys

try:
    import msgpack
except ImportError:
    if os.environ.get("ZS_REQUIRE_PY") == "1":
        print("FAIL: python3-msgpack is missing")
        sys.exit(1)
    print("SKIP: python3-msgpack is not installed")
    sys.exit(77)

TOOL = sys.argv[1]
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg)


def run(*args, data=None):
    p = subprocess.run([TOOL] + list(args), input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr.decode()


def unpack(b):
    return msgpack.unpackb(b, raw=False, strict_map_key=False)


# What the spec says some full samples carry (a subset of fields, checked
# with the wire names and types of PROTOCOL.md).
EXPECT = {
    "result": {"scan": "s1", "index": 4, "symbol": "S000004", "signal": True,
               "score": 3.25, "time": "2025-12-31", "price": 101.125,
               "values": {"rsi(14)": 26.75, "sma(200)": None,
                          "close": 101.125},
               "worker": "host-1234", "lane": 2, "wseq": 4242, "task": 77,
               "attempt": 1},
    "scan_start": {"req": 42, "scan": "my-scan_1", "universe": "synthetic:500",
                   "symbols": ["AAPL", "MSFT", "BRK.B", "^GSPC"],
                   "batch": 64, "priority": "signals", "max_signals": 10,
                   "max_symbols": 100, "timeout_seconds": 1.5, "sync": True},
    "task": {"scan": "s1", "task": 77, "attempt": 2,
             "symbols": ["AAPL", "MSFT", "BRK.B", "^GSPC"],
             "index": [0, 7, 65535, 4000000000],
             "def": {"data": "csv:/srv/data", "strategy": "rsi_oversold",
                     "params": {"period": 14, "threshold": 27.5}}},
    "ev_finished": {"scan": "s1", "reason": "max_signals", "total": 10000,
                    "scanned": 9990, "signals": 25, "results": 10000,
                    "failed": 10, "unscanned": 0},
    "scan_stopped": {"scan": "s1", "state": "finished", "reason": "stopped"},
    "error": {"code": 422, "message": "filter: position 9: expected ')'"},
    "ready": {"worker": "host-1234", "lane": 3, "taken": 17, "want": 1,
              "broker": "b0abcdef1234", "instance": "p0abcdef1234"},
    "hello": {"worker": "host-1234", "instance": "p0abcdef1234"},
    "replay": {"req": 7, "scan": "s1", "after": 4400, "limit": 1000,
               "view": "signals"},
    "replay_page": {"req": 7, "scan": "s1", "broker": "b0abcdef1234",
                    "state": "running", "first": 1, "head": 4400,
                    "next": 4400, "count": 3, "done": False},
    "broker_hb": {"broker": "b0abcdef1234", "tick": 12345678901},
}


def transform(obj, top=True):
    """Another writer's encoding of the same message."""
    if isinstance(obj, dict):
        out = {}
        for k in reversed(list(obj.keys())):
            out[k] = transform(obj[k], False)
        if top:
            out["x_future_field"] = {"nested": [1, 2.5, {"a": None}],
                                     "b": b"bytes"}
        return out
    if isinstance(obj, list):
        return [transform(x, False) for x in obj]
    if isinstance(obj, float) and obj.is_integer() and abs(obj) < 2 ** 53:
        return int(obj)
    return obj


def same(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


rc, out, _ = run("list")
names = [line.split()[0] for line in out.decode().splitlines()]
wire = dict(line.split() for line in out.decode().splitlines())
checked = 0
for name in names:
    for kind in ("full", "min"):
        rc, enc, err = run("encode", name, kind)
        if rc != 0:
            fail("%s %s: C encode failed: %s" % (name, kind, err))
            continue
        try:
            msg = unpack(enc)
        except Exception as e:  # noqa: BLE001 - report any decoder error
            fail("%s %s: python cannot decode the C encoding: %s"
                 % (name, kind, e))
            continue
        if msg.get("v") != 2 or msg.get("type") != wire[name]:
            fail("%s: v/type wrong: %r" % (name, msg))
        if kind == "full" and name in EXPECT:
            for k, v in EXPECT[name].items():
                if not same(msg.get(k), v):
                    fail("%s.%s = %r, spec sample says %r"
                         % (name, k, msg.get(k), v))
        # (2) Python's own encoding, decoded by C
        theirs = msgpack.packb(transform(msg), use_bin_type=True)
        rc, back, err = run("decode", name, data=theirs)
        if rc != 0:
            fail("%s %s: C rejected python's encoding: %s"
                 % (name, kind, err.strip()))
            continue
        if not same(unpack(back), msg):
            fail("%s %s: C read python's encoding differently:\n %r\n %r"
                 % (name, kind, unpack(back), msg))
        # and a wrong version is refused with a reason
        bad = dict(msg)
        bad["v"] = 1
        rc, _, err = run("decode", name,
                         data=msgpack.packb(bad, use_bin_type=True))
        if rc == 0 or "version" not in err:
            fail("%s: version 1 accepted or no reason: %r" % (name, err))
        checked += 1

# (3) a batch of results, as a subscriber or the broker reads it: an array
# of result maps that Python packs; C iterates it and decodes every record
rc, enc, err = run("encode", "result", "full")
one = unpack(enc)
recs = []
for i in range(3):
    r = dict(one)
    r["index"] = i
    r["symbol"] = "SYM%d" % i
    recs.append(transform(r))
rc, back, err = run("batch", "result",
                    data=msgpack.packb(recs, use_bin_type=True))
if rc != 0:
    fail("C rejected python's batch: %s" % err.strip())
else:
    got = unpack(back)
    if len(got) != 3 or [g["symbol"] for g in got] != ["SYM0", "SYM1", "SYM2"]:
        fail("C read python's batch as %r" % (got,))
    checked += 1
rc, _, err = run("batch", "result", data=msgpack.packb([], use_bin_type=True))
if rc == 0 or "batch of 0" not in err:
    fail("an empty batch was accepted: %r" % err)

print("cross-language: %d encodings checked both ways" % checked)
sys.exit(1 if failures else 0)
