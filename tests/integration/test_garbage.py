"""Garbage on each broker socket (random bytes, truncated msgpack, wrong
version): the broker keeps serving the scan in flight, and api clients get
error replies."""
import os
import random
import time

import zmq

from zsharness import (Cluster, Client, check, check_exactly_once, log,
                       pack, unpack)

N = 3000
rnd = random.Random(42)


def garbage_bodies():
    good_result = pack({"v": 2, "type": "result", "scan": "gar1",
                        "index": 0, "symbol": "S000000", "signal": True,
                        "worker": "liar", "lane": 0, "wseq": 1, "task": 1,
                        "attempt": 1})
    bodies = [os.urandom(rnd.randrange(0, 300)) for _ in range(30)]
    bodies += [good_result[:k] for k in range(0, len(good_result), 7)]
    bodies += [pack({"v": 99, "type": "scan_list"}),
               pack({"v": 2, "type": "no_such_type"}),
               pack({"v": 2}), pack([1, 2, 3]), pack("text"),
               b"\xdd\xff\xff\xff\xff", b"\xdf\xff\xff\xff\xff",
               pack({"v": 2, "type": "scan_start", "scan": "bad id!"}),
               pack({"v": 2, "type": "scan_start", "filter": "rsi(14) <"}),
               # lies: a result for a symbol not in the scan, a done for a
               # task never sent
               pack({"v": 2, "type": "result", "scan": "gar1",
                     "index": 999999, "symbol": "NOPE", "signal": True,
                     "worker": "liar", "lane": 0, "wseq": 5, "task": 1,
                     "attempt": 1}),
               pack({"v": 2, "type": "task_done", "worker": "liar",
                     "scan": "gar1", "task": 10 ** 12, "attempt": 1,
                     "lane": 0, "results": 5, "signals": 0, "errors": 0})]
    # batches (a results body may be an array of results): empty, too
    # many, an element that is not a map, truncated, bytes after the last
    lie = {"v": 2, "type": "result", "scan": "gar1", "index": 999999,
           "symbol": "NOPE", "signal": True, "worker": "liar", "lane": 0,
           "wseq": 6, "task": 1, "attempt": 1}
    bodies += [pack([]), pack([{}] * 5000), pack([lie, 5]),
               b"\x92" + pack(lie)[:-3], pack([lie]) + b"\x00",
               pack([lie, lie, lie])]
    return bodies


with Cluster(workers=2, threads=1,
             worker_args=["--symbol-delay-us", "200"]) as cluster:
    client = Client(cluster)
    client.wait_ready()
    time.sleep(0.3)
    client.start_scan("gar1", universe="synthetic:%d" % N)
    ctx = zmq.Context.instance()
    api = ctx.socket(zmq.DEALER)
    tasks = ctx.socket(zmq.DEALER)
    reports = ctx.socket(zmq.PUSH)
    results = ctx.socket(zmq.PUB)
    for s, k in ((api, 0), (tasks, 1), (reports, 2), (results, 4)):
        s.setsockopt(zmq.LINGER, 0)
        s.connect(cluster.endpoint(k))
    time.sleep(0.3)
    errors = 0
    for body in garbage_bodies():
        api.send(body)
        if api.poll(2000):
            rep = unpack(api.recv_multipart()[-1])
            if rep.get("type") == "error":
                errors += 1
                check(isinstance(rep.get("code"), int)
                      and isinstance(rep.get("message"), str),
                      "error replies carry code and message: %r" % (rep,))
        tasks.send(body)
        tasks.send_multipart([b"x", body, b"y"])
        reports.send(body)
        reports.send_multipart([body, body])
        results.send_multipart([b"gar1.r1", body])
        results.send(body)
        results.send_multipart([b"gar1.r1", body, body])
    records = client.records(timeout=120)
    res, fin = check_exactly_once(records, N)
    check(len(res) == N and fin["reason"] == "completed",
          "the scan in flight completed: %d, %s" % (len(res), fin["reason"]))
    check(all(r["worker"] != "liar" for r in res), "no lie was delivered")
    check(errors >= len(garbage_bodies()) - 2,
          "api garbage got error replies (%d)" % errors)
    rep = client.request({"type": "scan_status", "scan": "gar1"})
    check(rep["type"] == "scan_info" and rep["state"] == "finished",
          "the broker still answers: %r" % (rep,))
    check(cluster.broker.poll() is None, "the broker is alive")
    log("ok: broker survived garbage on every socket; %d api errors "
        "replied" % errors)
    for s in (api, tasks, reports, results):
        s.close()
    client.close()
