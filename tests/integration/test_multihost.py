"""Across hosts (issue 20): a small network of Linux network namespaces
joined by veth pairs on a bridge (iproute2; needs root, as CI runs).

    broker 10.77.N.1   worker w1 10.77.N.2   worker w2 10.77.N.3
    gateway 10.77.N.4  this test 10.77.N.100 (a veth from the root netns)

Each process binds to or connects to its own host's address, CURVE on
(keys from `zscan keygen`), the broker bound to its host's address only.

1. A scan started through the gateway completes with every symbol
   exactly once (read straight from the broker's results-out, CURVE).
2. w1's link goes down mid-scan (`ip link set ... down`): the scan still
   ends with every symbol exactly once, within the broker's liveness.
3. The link comes back: w1 rejoins and takes work in the next scan.
4. netem delay 20 ms on w2's link (tc, when the kernel has sch_netem; said
   when not): a scan completes exactly once, only slower.

Every namespace and link is removed at the end, also on failure.  When the
kernel refuses namespaces the test fails saying so (never a silent pass).
"""
import atexit
import json
import os
import subprocess
import tempfile
import time
import urllib.request

import zmq

from zsharness import (BIN, Cert, Client, check, check_exactly_once, fail,
                       log)

TAG = "%x" % (os.getpid() & 0xffff)
SUBNET = "10.77.%d" % (os.getpid() % 250 + 1)
SW = "zs-sw-" + TAG
HOSTS = {"broker": 1, "w1": 2, "w2": 3, "gw": 4}
ROOT_IF = "zsr" + TAG
PORT = 5555
LIVENESS_MS = 2000
made = []
procs = []


def sh(*argv, ok=True):
    r = subprocess.run(list(argv), capture_output=True)
    if ok and r.returncode != 0:
        fail("%s: %s" % (" ".join(argv), r.stderr.decode().strip()))
    return r


def ns(host):
    return "zs-%s-%s" % (host, TAG)


def addr(host):
    return "%s.%d" % (SUBNET, HOSTS[host])


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    sh("ip", "link", "del", ROOT_IF, ok=False)
    for n in reversed(made):
        sh("ip", "netns", "del", n, ok=False)
    made.clear()


atexit.register(cleanup)

if os.geteuid() != 0:
    fail("the multi-host test needs root (network namespaces); CI runs "
         "as root")
r = sh("ip", "netns", "add", SW, ok=False)
if r.returncode != 0:
    fail("the kernel refused a network namespace: %s"
         % r.stderr.decode().strip())
made.append(SW)
sh("ip", "-n", SW, "link", "add", "br0", "type", "bridge")
sh("ip", "-n", SW, "link", "set", "br0", "up")
for host in HOSTS:
    sh("ip", "netns", "add", ns(host))
    made.append(ns(host))
    sh("ip", "link", "add", "v-" + host, "netns", SW, "type", "veth", "peer",
       "name", "eth0", "netns", ns(host))
    sh("ip", "-n", SW, "link", "set", "v-" + host, "master", "br0", "up")
    sh("ip", "-n", ns(host), "addr", "add", addr(host) + "/24", "dev",
       "eth0")
    sh("ip", "-n", ns(host), "link", "set", "eth0", "up")
    sh("ip", "-n", ns(host), "link", "set", "lo", "up")
sh("ip", "link", "add", ROOT_IF, "type", "veth", "peer", "name", "v-test",
   "netns", SW)
sh("ip", "-n", SW, "link", "set", "v-test", "master", "br0", "up")
sh("ip", "addr", "add", SUBNET + ".100/24", "dev", ROOT_IF)
sh("ip", "link", "set", ROOT_IF, "up")

keys = tempfile.mkdtemp(prefix="zscan-mh-")
allow = os.path.join(keys, "allow")
certs = {n: Cert(keys, n) for n in ("broker", "w1", "w2", "gw", "test")}
for n in ("w1", "w2", "gw", "test"):
    certs[n].copy_to(allow)
B = certs["broker"]
logdir = os.environ.get("ZSCAN_TEST_LOGS", "")


def spawn(host, name, argv):
    out = subprocess.DEVNULL
    if logdir:
        out = open(os.path.join(logdir, "mh-%s.log" % name), "ab")
    p = subprocess.Popen(["ip", "netns", "exec", ns(host)] + argv,
                         stdout=subprocess.PIPE if name == "gw" else out,
                         stderr=out)
    procs.append(p)
    return p


def worker(wid):
    return spawn(wid, wid, [
        os.path.join(BIN, "zscan-worker"), "--broker", addr("broker"),
        "--port", str(PORT), "--id", wid, "--threads", "1",
        "--symbol-delay-us", "500", "--curve-cert", certs[wid].path,
        "--curve-server", B.path])


broker = spawn("broker", "broker", [
    os.path.join(BIN, "zscan-broker"), "--bind", addr("broker"), "--port",
    str(PORT), "--curve-cert", B.path, "--curve-allow", allow,
    "--liveness-ms", str(LIVENESS_MS)])
workers = {w: worker(w) for w in ("w1", "w2")}
gw = spawn("gw", "gw", [
    os.path.join(BIN, "zscan-gateway"), "--listen", addr("gw"),
    "--http-port", "8080", "--broker", addr("broker"), "--port", str(PORT),
    "--curve-cert", certs["gw"].path, "--curve-server", B.public,
    "--log-level", "warn"])
check(b"http://" in gw.stdout.readline(), "the gateway printed no URL")
GW = "http://%s:8080" % addr("gw")


class Remote:
    """Cluster's endpoint() for the broker host, for the Client."""
    def endpoint(self, k):
        return "tcp://%s:%d" % (addr("broker"), PORT + k)


client = Client(Remote(), curve=(certs["test"], B.public))
client.sub.setsockopt(zmq.SUBSCRIBE, b"")
client.wait_ready()
client.wait_workers(2)


def post(universe):
    req = urllib.request.Request(
        GW + "/scan/stream", method="POST",
        data=json.dumps({"universe": universe}).encode(),
        headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def scan(n, during=None):
    """A scan of n symbols started through the gateway, followed on the
    broker's results-out from before its start (the broker waits for no
    one: the client subscribes to everything and fills from history)."""
    started = post("synthetic:%d" % n)
    sid = started["scan_id"]
    client.following.add(sid)
    t0 = time.time()
    recs = client.records(timeout=120, on_record=during)
    recs = [r for r in recs if r[0].startswith(sid + ".")]
    results, fin = check_exactly_once(recs, n)
    return results, fin, time.time() - t0


# 1. a scan across hosts
results, fin, took = scan(3000)
by = {w: sum(1 for r in results if r["worker"] == w) for w in ("w1", "w2")}
check(fin["reason"] == "completed" and by["w1"] > 0 and by["w2"] > 0,
      "across hosts: %r, %r" % (fin["reason"], by))
log("ok: 3000 symbols exactly once across 4 hosts with CURVE in %.2f s "
    "(w1 %d, w2 %d)" % (took, by["w1"], by["w2"]))

# 2. w1's link down mid-scan
state = {"down_at": None}


def cut(topic, pos, body):
    if state["down_at"] is None and pos >= 1000:
        sh("ip", "-n", ns("w1"), "link", "set", "eth0", "down")
        state["down_at"] = time.time()


results, fin, took = scan(6000, during=cut)
check(state["down_at"] is not None, "the link was never taken down")
after = time.time() - state["down_at"]
check(fin["reason"] == "completed" and fin["failed"] == 0,
      "w1's link down: %r, %d failed" % (fin["reason"], fin["failed"]))
listed = [w["worker"] for w in client.request(
    {"type": "worker_list"})["workers"]]
check("w1" not in listed, "w1 is still listed with its link down")
log("ok: w1's link down mid-scan: 6000 symbols exactly once, %.2f s after "
    "the cut (liveness %d ms)" % (after, LIVENESS_MS))

# 3. back up: w1 rejoins and gets work
sh("ip", "-n", ns("w1"), "link", "set", "eth0", "up")
client.wait_workers(2, timeout=30)
results, fin, took = scan(3000)
by = {w: sum(1 for r in results if r["worker"] == w) for w in ("w1", "w2")}
check(by["w1"] > 0, "w1 rejoined but took no work: %r" % by)
log("ok: w1's link back: it rejoined and scanned %d of 3000" % by["w1"])

# 4. netem delay on w2's link
r = sh("tc", "-n", ns("w2"), "qdisc", "add", "dev", "eth0", "root", "netem",
       "delay", "20ms", ok=False)
if r.returncode != 0:
    log("netem: not available here (%s): the 20 ms delay step is skipped"
        % r.stderr.decode().strip())
else:
    results, fin, took = scan(3000)
    check(fin["reason"] == "completed", "with 20 ms delay: %r"
          % fin["reason"])
    log("ok: 20 ms netem delay on w2's link: 3000 exactly once in %.2f s"
        % took)

client.close()
for p in [gw, broker] + list(workers.values()):
    p.terminate()
for p in [gw, broker] + list(workers.values()):
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        fail("a process did not stop on SIGTERM")
bad = [p.args[4] for p in procs if p.returncode != 0]
check(not bad, "unclean exits: %r" % bad)
cleanup()
log("ok: every namespace removed")
