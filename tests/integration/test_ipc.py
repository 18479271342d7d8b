"""A cluster over Unix sockets (broker --ipc DIR, workers --ipc DIR, as
`zscan local` runs one): a client over ipc:// starts a scan and gets every
symbol exactly once; a subscriber over TCP to the same broker sees the very
same records with the same numbers; the broker leaves no socket files."""
import time

import zmq

from zsharness import Cluster, Client, check, check_exactly_once, log

with Cluster(workers=2, threads=1, ipc=True) as cluster:
    local = Client(cluster, ipc=True)
    local.wait_ready()
    # a second subscriber, over TCP; both subscribed, and their
    # subscriptions through to the broker, before the scan starts
    tcp = Client(cluster)
    tcp.sub.setsockopt(zmq.SUBSCRIBE, b"ipc1.")
    local.sub.setsockopt(zmq.SUBSCRIBE, b"ipc1.")
    time.sleep(0.5)
    local.start_scan("ipc1", subscribe=False, universe="synthetic:5000")
    records = local.records(timeout=120)
    results, fin = check_exactly_once(records, 5000)
    check(fin["reason"] == "completed", "reason %r" % fin["reason"])
    workers = {r["worker"] for r in results}
    check(len(workers) == 2, "both workers worked: %r" % workers)
    seen = tcp.records(timeout=30)
    check([(t, q) for t, q, _ in seen] == [(t, q) for t, q, _ in records],
          "the TCP subscriber saw the same %d records as the ipc one (it "
          "saw %d)" % (len(records), len(seen)))
    log("ok: 5000 results exactly once over ipc://, the same %d records "
        "over TCP" % len(seen))
    local.close()
    tcp.close()
check(cluster.ipc_left == [], "socket files left: %r" % cluster.ipc_left)
log("ok: no socket files left")
