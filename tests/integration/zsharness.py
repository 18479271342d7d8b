"""Integration test harness: real zscan processes on 127.0.0.1.

A Cluster starts zscan-broker and zscan-worker processes on free ports and
always cleans them up; a Client speaks the wire protocol of
proto/PROTOCOL.md with pyzmq and msgpack (Debian's python3-zmq and
python3-msgpack), so these tests also check that a client written from the
spec, in another language, works.
"""
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import msgpack
import zmq

BIN = os.environ.get("ZSCAN_BIN", "")
PROTO_VERSION = 2


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def log(msg):
    print(msg, flush=True)


def free_base(count=6):
    """A base port with `count` consecutive free ports on 127.0.0.1."""
    rnd = random.Random(os.getpid() ^ int(time.time() * 1e6))
    for _ in range(500):
        base = rnd.randrange(20000, 60000)
        socks = []
        try:
            for k in range(count):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", base + k))
                socks.append(s)
            return base
        except OSError:
            pass
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports")


def faults_rss(pid):
    """(minor page faults, resident KB) of a process, from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    faults = int(fields[7])  # minflt: field 10 of stat, 8th after ")"
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return faults, rss


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def unpack(data):
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


def message_records(frames):
    """The records of one results-out message [topic, position, body]:
    the position frame is [pos, signals, events] (the body's first record's
    position in its scan, and the signals and events of the scan before
    it); the body is one record (a map) or a batch (an array of maps)
    whose records have positions pos, pos+1, ... (PROTOCOL.md, section
    7).  Returns [(topic, pos, record)]."""
    check(len(frames) == 3, "want 3 frames, got %d" % len(frames))
    topic = frames[0].decode()
    head = unpack(frames[1])
    check(isinstance(head, list) and len(head) == 3
          and all(isinstance(x, int) for x in head),
          "the position frame is not [pos, signals, events]: %r" % (head,))
    pos = head[0]
    body = unpack(frames[2])
    if isinstance(body, dict):
        return [(topic, pos, body)]
    check(isinstance(body, list) and 1 <= len(body),
          "body is neither a record nor a batch: %r" % (body,))
    for rec in body:
        check(isinstance(rec, dict), "a batch element is not a map")
    return [(topic, pos + k, rec) for k, rec in enumerate(body)]


def message_head(frames):
    """(topic, [pos, signals, events], record count) of a message."""
    head = unpack(frames[1])
    body = unpack(frames[2])
    return frames[0].decode(), head, 1 if isinstance(body, dict) else len(body)


class Cluster:
    """A broker and workers as child processes; a context manager."""

    def __init__(self, workers=2, threads=1, broker_args=(), worker_args=(),
                 data=None, ipc=False):
        self.base = free_base()
        # ipc: the broker also binds Unix sockets in a private directory,
        # and the workers connect there
        self.ipc = tempfile.mkdtemp(prefix="zscan-test-") if ipc else None
        self.procs = []
        self.names = {}
        self.killed = set()
        self.workers = {}
        self.threads = threads
        self.worker_args = list(worker_args)
        self.data = data
        self.broker_args = list(broker_args)
        self.nworkers = workers
        self.broker = None
        self.logdir = os.environ.get("ZSCAN_TEST_LOGS", "")

    def endpoint(self, k):
        return "tcp://127.0.0.1:%d" % (self.base + k)

    IPC_NAMES = ("api", "tasks", "reports", "control", "results-in",
                 "results-out")

    def ipc_endpoint(self, k):
        return "ipc://%s/%s" % (self.ipc, self.IPC_NAMES[k])

    def _spawn(self, name, argv, env=None):
        out = subprocess.DEVNULL
        if self.logdir:
            out = open(os.path.join(self.logdir, name + ".log"), "ab")
        p = subprocess.Popen(argv, stdout=out, stderr=out, env=env)
        self.procs.append(p)
        self.names[p.pid] = name
        return p

    def _broker_argv(self):
        argv = [os.path.join(BIN, "zscan-broker"), "--bind", "127.0.0.1",
                "--port", str(self.base)] + self.broker_args
        if self.data:
            argv += ["--data", self.data]
        if self.ipc:
            argv += ["--ipc", self.ipc]
        return argv

    def start(self):
        self.broker = self._spawn("broker", self._broker_argv())
        for i in range(self.nworkers):
            self.add_worker("w%d" % (i + 1))
        return self

    def restart_broker(self):
        """Stops the broker (SIGTERM) and starts a new one on the same
        ports; the workers are left to find it by themselves."""
        self.broker.terminate()
        self.broker.wait(10)
        check(self.broker.returncode == 0,
              "the broker exited with %d on SIGTERM" % self.broker.returncode)
        self.broker = self._spawn("broker-2", self._broker_argv())
        return self.broker

    def add_worker(self, wid, extra=(), env=None):
        argv = [os.path.join(BIN, "zscan-worker"), "--port", str(self.base),
                "--threads", str(self.threads), "--id", wid]
        argv += self.worker_args + list(extra)
        if self.data:
            argv += ["--data", self.data]
        if self.ipc:
            argv += ["--ipc", self.ipc]
        self.workers[wid] = self._spawn("worker-" + wid, argv, env)
        return self.workers[wid]

    def signal_worker(self, wid, sig):
        if sig == signal.SIGKILL:
            self.killed.add(self.workers[wid].pid)
        self.workers[wid].send_signal(sig)

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGCONT)
                    p.terminate()
                except ProcessLookupError:
                    pass
        deadline = time.time() + 5
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        # every process we did not kill on purpose stops cleanly on SIGTERM
        # (under ASan this is also where leaks would show)
        bad = ["%s exited with %d" % (self.names[p.pid], p.returncode)
               for p in self.procs
               if p.pid not in self.killed and p.returncode != 0]
        if self.ipc:
            left = os.listdir(self.ipc)
            shutil.rmtree(self.ipc, ignore_errors=True)
            self.ipc_left = left
        if bad:
            fail("unclean exit: " + ", ".join(bad))

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
        return False


class Cert:
    """A CURVE certificate pair made by `zscan keygen` (czmq's format:
    NAME holds the public key, NAME_secret both), read back as a client
    written from the README would: the ZPL lines public-key / secret-key."""

    def __init__(self, directory, name):
        self.path = os.path.join(directory, name)
        out = subprocess.run([os.path.join(BIN, "zscan"), "keygen",
                              self.path], capture_output=True, check=True)
        self.public = self._key(self.path, "public-key")
        self.secret = self._key(self.path + "_secret", "secret-key")
        check(out.stdout.decode().strip() == self.public,
              "zscan keygen printed %r, the file says %r"
              % (out.stdout, self.public))
        check(self._key(self.path + "_secret", "public-key") == self.public,
              "the secret file's public key differs")
        check(os.stat(self.path + "_secret").st_mode & 0o077 == 0,
              "the secret file is readable by others")

    @staticmethod
    def _key(path, name):
        for line in open(path):
            k, _, v = line.strip().partition("=")
            if k.strip() == name:
                v = v.strip().strip('"')
                check(len(v) == 40, "%s in %s: %r" % (name, path, v))
                return v
        fail("no %s in %s" % (name, path))

    def copy_to(self, directory):
        os.makedirs(directory, exist_ok=True)
        shutil.copy(self.path, directory)


def curve_client(sock, curve):
    """Makes sock a CURVE client: curve = (own Cert, server public key),
    or None for plaintext."""
    if not curve:
        return
    mine, server = curve
    sock.curve_secretkey = mine.secret.encode()
    sock.curve_publickey = mine.public.encode()
    sock.curve_serverkey = server.encode()


class Client:
    """A DEALER for requests and a SUB for the results bus."""

    def __init__(self, cluster, ipc=False, curve=None):
        """curve: (own Cert, the broker's public key) for a broker with
        CURVE on."""
        where = cluster.ipc_endpoint if ipc else cluster.endpoint
        self.ctx = zmq.Context.instance()
        self.dealer = self.ctx.socket(zmq.DEALER)
        self.dealer.setsockopt(zmq.LINGER, 0)
        curve_client(self.dealer, curve)
        self.dealer.connect(where(0))
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.RCVHWM, 0)
        curve_client(self.sub, curve)
        self.sub.connect(where(5))
        self.req = 0
        self.have = {}        # scan -> last position taken
        self.following = set()
        self.repaired = 0     # records fetched from the history
        self.holes = 0        # holes seen in live positions
        self.lost = []        # ranges that had left the history

    def close(self):
        self.dealer.close()
        self.sub.close()

    def request(self, body, timeout=5.0):
        self.req += 1
        body = dict(body)
        body.setdefault("v", PROTO_VERSION)
        body["req"] = self.req
        self.dealer.send(pack(body))
        return self.reply(timeout)

    def reply(self, timeout=5.0):
        """The reply to the latest request; late replies to earlier ones
        (wait_ready may have asked more than once) are skipped."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0 or not self.dealer.poll(int(left * 1000)):
                fail("no reply from the broker within %.1f s" % timeout)
            rep = unpack(self.dealer.recv_multipart()[-1])
            if not isinstance(rep, dict) or rep.get("req") == self.req:
                return rep

    def wait_ready(self, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.req += 1
            self.dealer.send(pack({"v": PROTO_VERSION, "type": "scan_list",
                                   "req": self.req}))
            if self.dealer.poll(200):
                self.dealer.recv_multipart()
                return
        fail("broker not answering")

    def wait_workers(self, count, lanes=1, timeout=15.0):
        """Waits until the broker lists count workers, each with lanes
        lanes (a failed check when the time runs out); returns them."""
        deadline = time.time() + timeout
        workers = []
        while time.time() < deadline:
            workers = self.request({"type": "worker_list"}).get("workers", [])
            if len(workers) == count and all(w.get("lanes") == lanes
                                             for w in workers):
                break
            time.sleep(0.1)
        check(len(workers) == count, "%d workers known to the broker, want "
              "%d: %r" % (len(workers), count,
                          [w.get("worker") for w in workers]))
        return workers

    def start_scan(self, scan_id, subscribe=True, **fields):
        if subscribe:
            self.sub.setsockopt(zmq.SUBSCRIBE, (scan_id + ".").encode())
            self.following.add(scan_id)
        body = {"type": "scan_start", "scan": scan_id, "sync": subscribe}
        body.update(fields)
        rep = self.request(body)
        check(rep.get("type") == "scan_started",
              "scan_start refused: %r" % (rep,))
        return rep

    def request_frames(self, body, timeout=5.0):
        """Sends a request; returns every frame of its reply (a replay's
        reply is the page, then three frames per message)."""
        self.req += 1
        body = dict(body)
        body.setdefault("v", PROTO_VERSION)
        body["req"] = self.req
        self.dealer.send(pack(body))
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0 or not self.dealer.poll(int(left * 1000)):
                fail("no reply from the broker within %.1f s" % timeout)
            frames = self.dealer.recv_multipart()
            rep = unpack(frames[0])
            if not isinstance(rep, dict) or rep.get("req") == self.req:
                return frames

    def replay(self, scan, after=0, view="all", limit=0):
        """Every record of scan after position `after` from the broker's
        history, page by page as PROTOCOL.md section 7 says: returns
        (records, lost ranges, last page)."""
        out, lost, have = [], [], after
        while True:
            body = {"type": "replay", "scan": scan, "after": have,
                    "view": view}
            if limit:
                body["limit"] = limit
            frames = self.request_frames(body)
            page = unpack(frames[0])
            check(page.get("type") == "replay_page",
                  "replay of %s refused: %r" % (scan, page))
            check(len(frames) == 1 + 3 * page["count"],
                  "a page of %d messages in %d frames"
                  % (page["count"], len(frames)))
            if page["first"] > have + 1:
                lost.append((have + 1, page["first"] - 1))
                have = page["first"] - 1
            for i in range(1, len(frames), 3):
                for topic, pos, rec in message_records(frames[i:i + 3]):
                    if pos > have:
                        out.append((topic, pos, rec))
                        have = pos
            if page["done"] or page["next"] >= page["head"]:
                return out, lost, page
            have = max(have, page["next"])

    def records(self, timeout=60.0, until_finished=True, on_record=None,
                repair=True):
        """Collects (topic, pos, body) until a finished event, in position
        order.  A hole in the positions of a scan (results-out drops for a
        subscriber that falls behind) is filled from the broker's history,
        as a client written to PROTOCOL.md does; so is a scan that goes
        quiet before its finished event.  self.repaired counts the records
        fetched that way (repair=False: raw, holes and all)."""
        out = []
        deadline = time.time() + timeout
        quiet_since = time.time()

        def take(topic, pos, body):
            scan = topic.split(".")[0]
            if repair and pos <= self.have.get(scan, 0):
                return False
            self.have[scan] = pos
            out.append((topic, pos, body))
            if on_record:
                on_record(topic, pos, body)
            return until_finished and body.get("type") == "finished"

        def fill(scan):
            recs, lost, _ = self.replay(scan, self.have.get(scan, 0))
            self.lost += lost
            self.repaired += len(recs)
            return any(take(*r) for r in recs)

        while time.time() < deadline:
            if not self.sub.poll(200):
                if repair and time.time() - quiet_since > 1.0:
                    quiet_since = time.time()
                    for scan in list(self.following):
                        if fill(scan):
                            return out
                continue
            quiet_since = time.time()
            recs = message_records(self.sub.recv_multipart())
            scan = recs[0][0].split(".")[0]
            if repair and recs[0][1] > self.have.get(scan, 0) + 1:
                self.holes += 1
                if fill(scan):
                    return out
            for topic, pos, body in recs:
                if take(topic, pos, body):
                    return out
        if until_finished:
            fail("no finished event within %.0f s (%d records)"
                 % (timeout, len(out)))
        return out

    def drain(self, seconds):
        """Records arriving within the next `seconds`."""
        return self.records(timeout=seconds, until_finished=False)


def split(records):
    results = [b for _, _, b in records if b.get("type") == "result"]
    events = [b for _, _, b in records if b.get("type") != "result"]
    finished = [b for b in events if b.get("type") == "finished"]
    return results, events, finished


def check_exactly_once(records, universe_size):
    """Every symbol exactly once, gap-free sequence, totals that add up."""
    results, _, finished = split(records)
    check(len(finished) == 1, "want one finished event, got %d"
          % len(finished))
    fin = finished[0]
    symbols = [r["symbol"] for r in results]
    check(len(symbols) == len(set(symbols)),
          "duplicate symbols delivered: %d results, %d distinct"
          % (len(symbols), len(set(symbols))))
    # every record of the scan (results and events) has one position,
    # 1..N without a gap, in the order they arrive
    positions = [s for _, s, _ in records]
    check(positions == list(range(1, len(positions) + 1)),
          "positions not 1..%d without a gap (first ones: %r)"
          % (len(positions), positions[:10]))
    check(fin["results"] == len(results),
          "finished says %d results, subscriber counted %d"
          % (fin["results"], len(results)))
    sig = sum(1 for r in results if r.get("signal"))
    check(fin["signals"] == sig, "finished says %d signals, counted %d"
          % (fin["signals"], sig))
    failed = sum(1 for r in results if r.get("error"))
    check(fin["failed"] == failed, "finished says %d failed, counted %d"
          % (fin["failed"], failed))
    check(fin["total"] == universe_size, "total %d != %d"
          % (fin["total"], universe_size))
    check(fin["unscanned"] == universe_size - len(results),
          "unscanned %d != %d" % (fin["unscanned"],
                                  universe_size - len(results)))
    return results, fin
