"""CURVE security and worker identity (issue 20), against real processes.

Keys are made by `zscan keygen` and read back from czmq's certificate
files as any client would.  The broker runs with CURVE on every socket,
an authorised directory (w1, w2, cli, mallory) and a read-only one (ro).

1. Workers with authorised keys join; a zscan-worker with a key not in
   the directory never joins, gets no task, and stops saying why (exit
   1), also when its zmq_connect returns late (a preloaded shim: the
   refusal comes once, before the worker's next line); one without CURVE
   never joins either.
2. A subscriber with an unknown key, and one without CURVE, receive
   nothing while scans run.
3. mallory, an authorised key that is not a worker's, tries to act as
   worker w1: a hello and a ready in w1's name are refused (no task
   comes to it), and results it publishes for tasks it does not hold (the
   real task ids of the running scan, symbols not yet delivered, score
   1e9) never reach a subscriber: the scan completes exactly once with
   the real workers' results only.
4. The read-only key may list but not start (403); the CLI and the
   gateway work with their keys; the CLI without keys gets no answer.
6. A key added to the directory while the broker runs is let in; once
   removed, its open connection's requests get 403.
5. Without CURVE the broker refuses to bind beyond loopback, unless
   --plaintext (then it warns).
"""
import os
import re
import subprocess
import tempfile
import time

import zmq

from gwharness import Gateway
from zsharness import (BIN, Cert, Client, Cluster, check, check_exactly_once,
                       curve_client, fail, free_base, log, pack)

keys = tempfile.mkdtemp(prefix="zscan-keys-")
allow = os.path.join(keys, "allow")
read = os.path.join(keys, "read")
certs = {n: Cert(keys, n) for n in ("broker", "w1", "w2", "cli", "mallory",
                                    "ro", "evil")}
for n in ("w1", "w2", "cli", "mallory"):
    certs[n].copy_to(allow)
certs["ro"].copy_to(read)
B = certs["broker"]


def worker_keys(name):
    # the broker's key given as its public certificate file
    return ["--curve-cert", certs[name].path, "--curve-server", B.path]


def cli(*args, key="cli", timeout=60):
    argv = [os.path.join(BIN, "zscan")] + list(args) + [
        "--port", str(cluster.base), "--request-ms", "2000"]
    if key:
        argv += ["--curve-cert", certs[key].path, "--curve-server", B.public]
    return subprocess.run(argv, capture_output=True, timeout=timeout)


ctx = zmq.Context.instance()
with Cluster(workers=0, broker_args=[
        "--curve-cert", B.path, "--curve-allow", allow,
        "--curve-read", read]) as cluster:
    for w in ("w1", "w2"):
        cluster.add_worker(w, extra=worker_keys(w)
                           + ["--symbol-delay-us", "200"])
    client = Client(cluster, curve=(certs["cli"], B.public))
    client.wait_ready()
    client.wait_workers(2)

    # 1. a worker whose key is not authorised, and one without CURVE
    cluster.add_worker("evil", extra=worker_keys("evil"))
    # the same, with every zmq_connect returning 300 ms late (a shim
    # preloaded): the refusal comes once, before the worker's next line
    # after connecting, and it must still see it and stop
    shim = os.environ.get("ZS_SLOW_CONNECT")
    if shim:
        check(os.path.exists(shim), "the shim %s is not built" % shim)
        env = dict(os.environ, LD_PRELOAD=shim, ZS_SLOW_CONNECT_MS="300")
        # a sanitized worker: its runtime is not first when a shim is
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "")
                               + ":verify_asan_link_order=0").lstrip(":")
        cluster.add_worker("evil-late", extra=worker_keys("evil"), env=env)
    cluster.add_worker("plain")
    # 2. subscribers that must receive nothing
    spies = []
    for key in ("evil", None):
        s = ctx.socket(zmq.SUB)
        s.setsockopt(zmq.LINGER, 0)
        curve_client(s, (certs[key], B.public) if key else None)
        s.setsockopt(zmq.SUBSCRIBE, b"")
        s.connect(cluster.endpoint(5))
        spies.append(s)

    # 3. mallory: an authorised key pretending to be w1
    reports = ctx.socket(zmq.PUSH)
    reports.setsockopt(zmq.LINGER, 0)
    curve_client(reports, (certs["mallory"], B.public))
    reports.connect(cluster.endpoint(2))
    reports.send(pack({"v": 2, "type": "hello", "worker": "w1",
                       "instance": "mallory1", "host": "x", "pid": 1,
                       "threads": 1}))
    lane = ctx.socket(zmq.DEALER)
    lane.setsockopt(zmq.LINGER, 0)
    lane.setsockopt(zmq.ROUTING_ID, b"w1/5")
    curve_client(lane, (certs["mallory"], B.public))
    lane.connect(cluster.endpoint(1))
    lane.send(pack({"v": 2, "type": "ready", "worker": "w1",
                    "instance": "mallory1", "lane": 5, "taken": 0,
                    "want": 64}))
    forger = ctx.socket(zmq.XPUB)
    forger.setsockopt(zmq.LINGER, 0)
    curve_client(forger, (certs["mallory"], B.public))
    forger.connect(cluster.endpoint(4))
    check(forger.poll(5000) and forger.recv() == b"\x01",
          "the broker's results-in subscribes to mallory's XPUB (an "
          "authorised key may connect)")
    time.sleep(1.5)  # the unauthorised workers have had time to try

    N = 6000
    client.start_scan("curve1", universe="synthetic:%d" % N)
    forged = 0
    seen_tasks = set()
    taken_by_mallory = 0

    def forge(topic, pos, body):
        """For each real result, results mallory does not hold: the same
        task, symbols far ahead (not delivered yet), an absurd score."""
        global forged, taken_by_mallory
        if body.get("type") != "result" or body["task"] in seen_tasks:
            return
        seen_tasks.add(body["task"])
        batch = []
        for k in range(20):
            idx = (body["index"] + 1 + 97 * (k + 1) * len(seen_tasks)) % N
            fake = dict(body)
            fake.update({"symbol": "S%06d" % idx, "index": idx,
                         "score": 1e9, "signal": True})
            batch.append(fake)
        forger.send_multipart([b"curve1.r", pack(batch)])
        forged += len(batch)
        while lane.poll(0):
            lane.recv_multipart()
            taken_by_mallory += 1

    records = client.records(timeout=120, on_record=forge)
    results, fin = check_exactly_once(records, N)
    check(forged >= 100, "mallory forged %d results" % forged)
    check(not any(r.get("score") == 1e9 for r in results),
          "a forged result reached the subscriber")
    workers = {r["worker"] for r in results}
    check(workers == {"w1", "w2"}, "results came from %r" % workers)
    while lane.poll(200):
        lane.recv_multipart()
        taken_by_mallory += 1
    check(taken_by_mallory == 0,
          "mallory's ready in w1's name got %d tasks" % taken_by_mallory)
    listed = sorted(w["worker"] for w in client.request(
        {"type": "worker_list"})["workers"])
    check(listed == ["w1", "w2"], "workers known to the broker: %r" % listed)
    got = 0
    for s in spies:
        while s.poll(100):
            s.recv_multipart()
            got += 1
    check(got == 0, "unauthorised subscribers received %d messages" % got)
    # the worker whose key was refused said so and stopped (exit 1: a
    # supervisor restarts it, and it joins once its key is allowed)
    for name in ("evil", "evil-late") if shim else ("evil",):
        evil = cluster.workers[name]
        try:
            evil.wait(10)
        except subprocess.TimeoutExpired:
            fail("the worker with a refused key is still running (%s)"
                 % name)
        check(evil.returncode == 1, "refused worker %s: exit %d"
              % (name, evil.returncode))
        cluster.killed.add(evil.pid)
    log("ok: %d results exactly once from w1 and w2 with CURVE; %d forged "
        "results from an authorised key dropped; its hello and ready in "
        "w1's name took nothing; an unknown key's worker and a plaintext "
        "one never joined; unauthorised subscribers got nothing"
        % (len(results), forged))

    # 4. read-only key, the CLI and the gateway with keys
    ro = Client(cluster, curve=(certs["ro"], B.public))
    rep = ro.request({"type": "scan_list"})
    check(rep.get("type") == "scans", "read-only list: %r" % rep)
    rep = ro.request({"type": "scan_start", "scan": "ro1",
                      "universe": "synthetic:10"})
    check(rep.get("type") == "error" and rep.get("code") == 403,
          "read-only start: %r" % rep)
    rep = ro.request({"type": "scan_stop", "scan": "curve1"})
    check(rep.get("type") == "error" and rep.get("code") == 403,
          "read-only stop: %r" % rep)
    ro.close()
    out = cli("scan", "--universe", "synthetic:500", "--json")
    lines = out.stdout.decode().splitlines()
    # (a slow machine's scan also prints progress records: not counted)
    results = sum(1 for x in lines if x.startswith('{"type":"result"'))
    check(out.returncode == 0 and results == 500
          and '"reason":"completed"' in lines[-1],
          "zscan scan with keys: exit %d, %d results in %d lines, %r"
          % (out.returncode, results, len(lines), out.stderr[-300:]))
    out = cli("scan", "--universe", "synthetic:500", "--json", key="ro")
    check(out.returncode != 0 and b"403" in out.stderr,
          "zscan scan with the read-only key: %d %r"
          % (out.returncode, out.stderr))
    out = cli("list", key="ro")
    check(out.returncode == 0, "zscan list with the read-only key: %r"
          % out.stderr)
    out = cli("list", key=None, timeout=30)
    check(out.returncode != 0, "zscan list without keys answered")
    with Gateway(cluster, *worker_keys("cli")) as gw:
        sid = gw.start(universe="synthetic:300")["scan_id"]
        deadline = time.time() + 30
        while time.time() < deadline:
            st = gw.json("GET", "/scan/stats/" + sid)
            if st["state"] == "finished":
                break
            time.sleep(0.1)
        check(st["state"] == "finished" and st["results"] == 300,
              "a scan through the gateway with keys: %r" % st)
    log("ok: read-only key lists, gets 403 on start and stop; the CLI and "
        "the gateway work with keys; the CLI without keys gets no answer")

    # 6. a key added while the broker runs is let in; removed, it is not
    late = Cert(keys, "late")
    late.copy_to(allow)
    lc = Client(cluster, curve=(late, B.public))
    rep = lc.request({"type": "scan_list"}, timeout=5)
    check(rep.get("type") == "scans", "a key added at run time: %r" % rep)
    os.unlink(os.path.join(allow, "late"))
    deadline = time.time() + 15
    while time.time() < deadline:
        rep = lc.request({"type": "scan_list"}, timeout=5)
        if rep.get("code") == 403:
            break
        time.sleep(0.5)
    check(rep.get("type") == "error" and rep.get("code") == 403,
          "a removed key still answered: %r" % rep)
    lc.close()
    log("ok: a key added at run time is let in at once; removed, its open "
        "connection gets 403 within seconds")
    for s in spies + [reports, lane, forger]:
        s.close()
    client.close()

# 5. beyond loopback without CURVE
base = free_base()
broker = os.path.join(BIN, "zscan-broker")
out = subprocess.run([broker, "--bind", "0.0.0.0", "--port", str(base)],
                     capture_output=True, timeout=10)
check(out.returncode != 0 and b"without CURVE" in out.stderr,
      "binding 0.0.0.0 without CURVE: %d %r" % (out.returncode,
                                                out.stderr[-300:]))
p = subprocess.Popen([broker, "--bind", "0.0.0.0", "--port", str(base),
                      "--plaintext"], stderr=subprocess.PIPE)
try:
    time.sleep(1.0)
    check(p.poll() is None, "the broker with --plaintext exited")
finally:
    p.terminate()
    err = p.communicate(timeout=10)[1]
check(p.returncode == 0 and re.search(rb"warn.*without CURVE", err),
      "--plaintext: exit %d, %r" % (p.returncode, err[-300:]))
log("ok: the broker refuses 0.0.0.0 without CURVE, and warns with "
    "--plaintext")
