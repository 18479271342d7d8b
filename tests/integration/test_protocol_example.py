"""PROTOCOL.md's Python client (section 10) runs as written against a real
cluster - the ports changed to this cluster's, nothing else - and follows
its scan to the end: exactly its 10 signals, in position order, then
done.  A slow reader on purpose: the example reads after a pause, so
results-out may drop for it, and its replay fills the holes."""
import os
import re
import subprocess
import sys

from zsharness import Cluster, check, log

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "..", "..", "proto", "PROTOCOL.md")

text = open(SPEC).read()
section = text[text.index("## 10. Example: a Python client"):]
code = re.search(r"```python\n(.*?)```", section, re.S).group(1)

with Cluster(workers=2, threads=1, data="synthetic:bars=60",
             broker_args=["--out-hwm", "5"]) as cluster:
    prog = code.replace("tcp://127.0.0.1:5560", cluster.endpoint(5)) \
               .replace("tcp://127.0.0.1:5555", cluster.endpoint(0))
    # read slowly at first: subscribers that fall behind lose messages
    prog = prog.replace("have, held, done = 0, [], False",
                        "have, held, done = 0, [], False\n"
                        "import time; time.sleep(0.5)")
    check("time.sleep" in prog, "the example's state line moved")
    out = subprocess.run([sys.executable, "-c", prog],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=60)
    check(out.returncode == 0, "the example failed: %s"
          % out.stderr.decode()[-500:])
    lines = out.stdout.decode().splitlines()
    started = [x for x in lines if x.startswith("{")]
    sig = [x for x in lines if re.match(r"^\d+ S\d+ ", x)]
    pos = [int(x.split()[0]) for x in sig]
    check(started and "scan_started" in started[0],
          "the example printed its scan_started: %r" % lines[:2])
    check(len(sig) == 10 and pos == sorted(pos) and len(set(pos)) == 10,
          "10 signals in position order: %r" % sig)
    check(not any(x.startswith("lost") for x in lines),
          "nothing reported lost: %r" % lines)
    log("ok: PROTOCOL.md's Python example followed its scan: %d signals "
        "at positions %s" % (len(sig), pos))
