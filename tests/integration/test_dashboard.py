"""The web dashboard in a real browser (issue 19): Debian's chromium driven
by playwright-core (npm, installed by ./dev test into build/browser)
against a real cluster and gateway: tests/browser/dashboard.js does the
steps (the form, ranked rows, max_signals, Stop, a reload and a gateway
restart mid-scan, a bad filter, a chart) and keeps a screenshot of each
under build/browser-artifacts.  This script starts the processes, and
restarts the gateway on the same port when the browser side asks.

Skipped (exit 0, said) when chromium, node or playwright-core is missing,
unless ZS_REQUIRE_BROWSER=1 (./dev test sets it)."""
import os
import shutil
import signal
import subprocess
import sys

from gwharness import Gateway
from zsharness import BIN, Cluster, Client, check, log

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "browser", "dashboard.js")
MODULES = os.environ.get("ZS_NODE_MODULES") or os.path.join(
    BIN, "..", "browser", "node_modules")
SHOTS = os.path.join(BIN, "..", "browser-artifacts")

missing = [what for what, ok in (
    ("chromium", os.path.exists("/usr/bin/chromium")),
    ("node", shutil.which("node")),
    ("playwright-core", os.path.isdir(os.path.join(MODULES,
                                                    "playwright-core"))))
    if not ok]
if missing:
    msg = "browser test: missing %s" % ", ".join(missing)
    check(os.environ.get("ZS_REQUIRE_BROWSER") != "1", msg)
    log("SKIP: " + msg)
    sys.exit(0)

os.makedirs(SHOTS, exist_ok=True)
for f in os.listdir(SHOTS):
    if f.endswith(".png"):
        os.unlink(os.path.join(SHOTS, f))

with Cluster(workers=2, threads=1, data="synthetic:bars=300",
             worker_args=["--symbol-delay-us", "300"]) as cluster:
    client = Client(cluster)
    client.wait_ready()
    client.wait_workers(2)
    gw = Gateway(cluster, "--data", "synthetic:bars=300")
    gw.__enter__()
    node = None
    try:
        env = dict(os.environ, NODE_PATH=os.path.abspath(MODULES))
        # its own process group: on any failure here, node and chromium
        # are killed with it (they hold ctest's output pipe otherwise)
        node = subprocess.Popen(["node", SCRIPT, gw.base, SHOTS],
                                stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, env=env,
                                start_new_session=True)
        restarts = 0
        done = False
        for line in node.stdout:
            line = line.decode().strip()
            if line == "restart-gateway":
                port = gw.port
                check(gw.stop() == 0, "the gateway exited non-zero")
                gw = Gateway(cluster, "--data", "synthetic:bars=300",
                             "--http-port", str(port))
                gw.__enter__()
                check(gw.port == port, "the gateway came back on %d, not %d"
                      % (gw.port, port))
                restarts += 1
                node.stdin.write(b"ok\n")
                node.stdin.flush()
            elif line == "done":
                done = True
        rc = node.wait(timeout=300)
        check(rc == 0 and done, "the browser steps failed (exit %d); "
              "screenshots in %s" % (rc, os.path.abspath(SHOTS)))
        check(restarts == 1, "the gateway was restarted %d times" % restarts)
        shots = sorted(f for f in os.listdir(SHOTS) if f.endswith(".png"))
        check(len(shots) >= 9, "screenshots: %r" % shots)
        log("ok: every browser step passed; %d screenshots in %s"
            % (len(shots), os.path.abspath(SHOTS)))
    finally:
        if node is not None and node.poll() is None:
            try:
                os.killpg(node.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            node.wait()
        gw.stop()
