"""The main job's port (issue 17, section 7): `zscan local` takes the
default base port when its six ports are free, so that the README's next
command, a bare `zscan scan`, reaches it; a second `zscan local` finds
them taken, picks others and says which."""
import json
import os
import signal
import socket
import subprocess
import time

from zsharness import BIN, check, fail, log


def ports_free(base):
    for k in range(6):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", base + k))
        except OSError:
            return False
        finally:
            s.close()
    return True


def local():
    return subprocess.Popen(
        [os.path.join(BIN, "zscan"), "local", "--no-scan", "--workers", "1",
         "--threads", "1", "--data", "synthetic:bars=60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)


def wait_line(p, what, timeout=20):
    """stderr lines until one holds `what` (returned, with those before)."""
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = p.stderr.readline().decode()
        if not line:
            break
        seen.append(line)
        if what in line:
            return "".join(seen)
    fail("zscan local never said %r: %r" % (what, seen))


def stop(p):
    p.send_signal(signal.SIGINT)
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        fail("zscan local did not stop on Ctrl-C")
    check(p.returncode == 0, "zscan local exit %d" % p.returncode)


def scan(*port):
    out = subprocess.run([os.path.join(BIN, "zscan"), "scan", "--universe",
                          "synthetic:200", "--json"] + list(port),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=60)
    lines = [json.loads(x) for x in out.stdout.decode().splitlines()]
    check(out.returncode == 0 and lines[-1]["type"] == "complete"
          and lines[-1]["data"]["results"] == 200,
          "zscan scan %s: exit %d %s" % (" ".join(port), out.returncode,
                                          out.stderr.decode()[-300:]))


if not ports_free(5555):
    fail("ports 5555-5560 are taken on this machine: the test needs them "
         "free (something else is listening there)")
first = local()
try:
    said = wait_line(first, "cluster up")
    check("5555-5560 (the default)" in said,
          "the first zscan local takes the default ports: %r" % said)
    scan()  # no --port: the default reaches it
    log("ok: zscan local on the default ports; a bare zscan scan reached it")
    second = local()
    try:
        said = wait_line(second, "cluster up")
        check("are taken" in said and "--port" in said,
              "the second says the defaults are taken: %r" % said)
        port = said.split("give other clients --port ")[1].split()[0]
        scan("--port", port)
        log("ok: a second zscan local picked ports %s and said so" % port)
    finally:
        stop(second)
finally:
    stop(first)

# `zscan local --exit` stops its workers first, while the broker still
# hears their bye, then the broker (it stopped them all at once: each
# worker then waited out its reports socket's linger, 2 s, for a broker
# that was gone)
out = subprocess.run(
    [os.path.join(BIN, "zscan"), "local", "--exit", "--no-gateway", "--json",
     "--workers", "2", "--universe", "synthetic:200", "--data",
     "synthetic:bars=60", "--log-level", "info"],
    capture_output=True, timeout=60)
lines = out.stderr.decode().splitlines()
left = [i for i, l in enumerate(lines) if "zscan-broker" in l and " left (" in l]
stopped = [i for i, l in enumerate(lines) if "broker stopped" in l]
check(out.returncode == 0 and len(left) == 2 and len(stopped) == 1
      and max(left) < stopped[0],
      "zscan local --exit: both workers' bye heard before the broker "
      "stopped (exit %d): %r" % (out.returncode, lines[-8:]))
log("ok: zscan local --exit stops the workers (their bye heard), then the "
    "broker")
