"""The workers' default cache budget follows the memory they may use: a
quarter of the machine's memory, or of their control group's limit when
that is lower (a container, a systemd unit with MemoryMax=), so that a
universe that fits is generated once; `zscan local` shares half of it
among its workers.  (The budget was a fixed 1 GB: `synthetic:100000`,
5 GB of bars, was generated again on every scan even on a machine with
room for it.)"""
import os
import signal
import subprocess
import time

from zsharness import BIN, check, log

worker = os.path.join(BIN, "zscan-worker")


def budget_said(argv, preexec=None):
    """Starts a worker (no broker: it only says its budget) and returns the
    MB its log says."""
    p = subprocess.Popen(argv + ["--port", "1", "--log-level", "info"],
                         stderr=subprocess.PIPE, preexec_fn=preexec)
    deadline = time.time() + 30
    mb = None
    while time.time() < deadline:
        line = p.stderr.readline().decode()
        if not line:
            break
        if "cache: " in line and " MB for bars" in line:
            mb = int(line.split("cache: ")[1].split(" MB")[0])
            break
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=30)
    return mb


def mem_total():
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def cgroup_limit():
    """This process's own cgroup memory limit, or None."""
    for line in open("/proc/self/cgroup"):
        num, ctrl, path = line.rstrip("\n").split(":", 2)
        f = None
        if num == "0" and ctrl == "":
            f = "/sys/fs/cgroup%s/memory.max" % path
        elif "memory" in ctrl.split(","):
            f = "/sys/fs/cgroup/memory%s/memory.limit_in_bytes" % path
        if f and os.path.exists(f):
            v = open(f).read().strip()
            if v.isdigit():
                return int(v)
    return None


total = mem_total()
lim = cgroup_limit()
if lim and lim < total:
    total = lim
want = max(total // 4 >> 20, 256)
got = budget_said([worker])
check(got == want, "default budget %s MB, a quarter of %d MB is %d"
      % (got, total >> 20, want))
check(budget_said([worker, "--cache-mb", "300"]) == 300,
      "--cache-mb is taken as given")
log("default cache: %d MB of %d MB" % (got, total >> 20))

# in a control group limited to 2 GiB: a quarter of that
group = None
for base, knob in (("/sys/fs/cgroup/memory", "memory.limit_in_bytes"),
                   ("/sys/fs/cgroup", "memory.max")):
    path = os.path.join(base, "zscan-test-%d" % os.getpid())
    try:
        if not os.path.exists(os.path.join(base, knob)) and \
                base == "/sys/fs/cgroup/memory":
            continue
        os.mkdir(path)
        with open(os.path.join(path, knob), "w") as f:
            f.write(str(2 << 30))
        group = path
        break
    except OSError as e:
        log("cgroup at %s: %s" % (base, e))
        try:
            os.rmdir(path)
        except OSError:
            pass
if group is None:
    log("SKIP the control-group case: cannot create a memory cgroup here")
else:
    try:
        def enter():
            with open(os.path.join(group, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        got = budget_said([worker], preexec=enter)
        check(got == 512, "in a 2 GiB cgroup the budget is %s MB, not 512"
              % got)
        log("in a 2 GiB control group: %d MB" % got)
    finally:
        for _ in range(50):
            try:
                os.rmdir(group)
                break
            except OSError:
                time.sleep(0.1)
print("cache budget: ok")
