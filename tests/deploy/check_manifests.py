"""Checks deploy/docker and deploy/kubernetes without a container engine
(none runs on these machines): what can be checked, is.

Dockerfile: its stages, every COPY source against the tree (and every
directory the build needs), COPY --from against earlier stages, the cmake
options against CMakeLists.txt, the build packages against ./dev's, and
the runtime packages against the libraries the built programs link
(readelf NEEDED, dpkg -S).
compose.yaml: YAML without duplicate keys; the build context and
Dockerfile; every secret and config a service uses is defined, from a file
under ./keys that the header says how to make; every command's program and
options (against its --help); key paths that are mounted where the command
reads them; published ports; a worker service that scales.
kubernetes: every document's apiVersion/kind/name; selectors against pod
labels; Service targetPorts against container ports; volumes against the
kustomization's generators (and secret items against the generator's
keys); mounts against volumes; probes (the gateway's /healthz, the
broker's exec); the config's key paths against the mounts; commands'
options against --help.

Usage: check_manifests.py BIN_DIR SOURCE_DIR"""
import os
import re
import shlex
import subprocess
import sys

import yaml

BIN, SRC = sys.argv[1], sys.argv[2]
DEPLOY = os.path.join(SRC, "deploy")
failures = []


def bad(msg):
    failures.append(msg)
    print("FAIL: " + msg)


class UniqueLoader(yaml.SafeLoader):
    pass


def _map(loader, node, deep=False):
    keys = set()
    for k, _ in node.value:
        if k.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(k, deep=deep)
        if key in keys:
            raise yaml.YAMLError("duplicate key %r at line %d"
                                 % (key, k.start_mark.line + 1))
        keys.add(key)
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node, deep=deep))


UniqueLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _map)


def load(path, many=False):
    with open(path) as f:
        try:
            if many:
                return [d for d in yaml.load_all(f, Loader=UniqueLoader) if d]
            return yaml.load(f, Loader=UniqueLoader)
        except yaml.YAMLError as e:
            bad("%s: %s" % (path, e))
            return [] if many else {}


HELP = {}


def check_command(where, argv):
    """argv[0] is one of our programs (on PATH in the image), every --opt
    an option its --help lists."""
    prog = argv[0]
    exe = os.path.join(BIN, prog)
    if not os.path.exists(exe):
        bad("%s: %s is not a zscan program" % (where, prog))
        return {}
    sub = [argv[1]] if prog == "zscan" and len(argv) > 1 else []
    key = tuple([prog] + sub)
    if key not in HELP:
        HELP[key] = subprocess.run([exe] + sub + ["--help"],
                                   capture_output=True).stdout.decode()
    opts = {}
    for i, a in enumerate(argv):
        if a.startswith("--"):
            name = a.split("=")[0]
            if not re.search(r"(^|\s)%s\b" % re.escape(name), HELP[key]):
                bad("%s: %s does not take %s" % (where, " ".join(key), name))
            if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                opts[name] = argv[i + 1]
    return opts


# ---- Dockerfile ------------------------------------------------------
dockerfile = os.path.join(DEPLOY, "docker", "Dockerfile")
stages, packages, cur = [], {}, None
text = open(dockerfile).read().replace("\\\n", " ")
cmake_opts = set(re.findall(r"option\((\w+)", open(
    os.path.join(SRC, "CMakeLists.txt")).read()))
copied = set()
for line in text.splitlines():
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    word, _, rest = line.partition(" ")
    if word == "FROM":
        m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
        if not m:
            bad("Dockerfile: FROM %s" % rest)
            continue
        cur = m.group(2) or "stage%d" % len(stages)
        stages.append(cur)
        packages[cur] = set()
    elif word == "RUN":
        for m in re.finditer(r"apt-get install (.*?)(?:&&|$)", rest):
            packages[cur] |= {p for p in m.group(1).split()
                              if not p.startswith("-")}
        for o in re.findall(r"-D(\w+)=", rest):
            if o.startswith("ZS_") and o not in cmake_opts:
                bad("Dockerfile: cmake option %s is not in CMakeLists.txt"
                    % o)
    elif word == "COPY":
        args = rest.split()
        frm = [a for a in args if a.startswith("--from=")]
        srcs = [a for a in args if not a.startswith("--")][:-1]
        if frm:
            if frm[0][7:] not in stages[:-1]:
                bad("Dockerfile: COPY %s names no earlier stage" % frm[0])
        else:
            for s in srcs:
                if not os.path.exists(os.path.join(SRC, s)):
                    bad("Dockerfile: COPY %s: no such path in the tree" % s)
                copied.add(s.strip("/"))
if len(stages) < 2 or stages[0] != "build":
    bad("Dockerfile: want a build stage, then a runtime stage: %r" % stages)
# every directory the build adds (without tests and benchmarks)
needed = set(re.findall(r"^add_subdirectory\((\w+)\)", open(
    os.path.join(SRC, "CMakeLists.txt")).read(), re.M))
for d in sorted(needed - copied):
    bad("Dockerfile: the build needs %s/, which is not copied" % d)
dev = open(os.path.join(SRC, "dev")).read()
build_pkgs = set(re.search(r'BUILD_PKGS="([^"]*)"', dev).group(1).split())
for p in sorted(build_pkgs - {"git"} - packages.get("build", set())):
    bad("Dockerfile: the build stage lacks %s (./dev installs it)" % p)
runtime = packages.get(stages[-1], set()) if stages else set()
# what those packages bring with them (their direct dependencies)
brought = set(runtime)
for p in runtime:
    dep = subprocess.run(["dpkg-query", "-W", "-f=${Depends}", p],
                         capture_output=True).stdout.decode()
    brought |= {d.strip().split()[0].split(":")[0]
                for d in re.split(r"[,|]", dep) if d.strip()}
for prog in ("zscan", "zscan-broker", "zscan-worker", "zscan-gateway"):
    out = subprocess.run(["readelf", "-d", os.path.join(BIN, prog)],
                         capture_output=True).stdout.decode()
    for lib in re.findall(r"\(NEEDED\).*\[(.*)\]", out):
        if re.match(r"lib(a|ub|t|l)san\.", lib):
            continue  # a sanitizer build's runtime (./dev test's ASan pass)
        path = subprocess.run(["sh", "-c", "ldconfig -p | awk '$1 == \"%s\""
                               " {print $NF; exit}'" % lib],
                              capture_output=True).stdout.decode().strip()
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(path)],
                               capture_output=True).stdout.decode()
        if not owner:
            owner = subprocess.run(["dpkg", "-S", path],
                                   capture_output=True).stdout.decode()
        pkg = owner.split(":")[0]
        if pkg and pkg not in brought and pkg != "libc6":
            bad("Dockerfile: %s links %s (%s), not installed in the runtime "
                "stage" % (prog, lib, pkg))
exposed = " ".join(re.findall(r"^EXPOSE (.*)$", text, re.M))
for port in ("5555-5560", "8080"):
    if port not in exposed.split():
        bad("Dockerfile: EXPOSE lacks %s" % port)

# ---- compose ---------------------------------------------------------
cdir = os.path.join(DEPLOY, "docker")
cpath = os.path.join(cdir, "compose.yaml")
compose = load(cpath)
header = open(cpath).read()
services = compose.get("services", {})
for s in ("broker", "worker", "gateway"):
    if s not in services:
        bad("compose: no %s service" % s)
for name, svc in services.items():
    where = "compose %s" % name
    b = svc.get("build", {})
    ctx = os.path.normpath(os.path.join(cdir, b.get("context", ".")))
    if not os.path.isfile(os.path.join(ctx, b.get("dockerfile",
                                                   "Dockerfile"))):
        bad("%s: build %r has no Dockerfile" % (where, b))
    if ctx != os.path.normpath(SRC):
        bad("%s: the build context must be the source tree" % where)
    secrets = svc.get("secrets", [])
    configs = {c["target"]: c["source"] for c in svc.get("configs", [])}
    for sname in secrets:
        if sname not in compose.get("secrets", {}):
            bad("%s: secret %s is not defined" % (where, sname))
    for src in configs.values():
        if src not in compose.get("configs", {}):
            bad("%s: config %s is not defined" % (where, src))
    opts = check_command(where, svc.get("command", []))
    cert = opts.get("--curve-cert", "")
    if not cert.startswith("/run/secrets/") or cert[13:] not in secrets:
        bad("%s: --curve-cert %r is not one of its secrets" % (where, cert))
    server = opts.get("--curve-server")
    if server and server not in configs:
        bad("%s: --curve-server %s is not mounted" % (where, server))
    hc = svc.get("healthcheck", {}).get("test", [])
    if hc:
        hopts = check_command(where + " healthcheck", hc[1:])
        for k in ("--curve-cert",):
            if hopts.get(k, "/run/secrets/")[13:] not in secrets:
                bad("%s: healthcheck key %s not mounted" % (where,
                                                             hopts.get(k)))
for kind in ("secrets", "configs"):
    for name, d in compose.get(kind, {}).items():
        f = d.get("file", "")
        m = re.match(r"\./keys/(\w+?)(_secret)?$", f)
        if not m or ("zscan keygen keys/%s" % m.group(1)) not in header:
            bad("compose: %s %s from %r: not a key the header says how to "
                "make" % (kind, name, f))
w = services.get("worker", {})
if "container_name" in w or "ports" in w or \
        not w.get("deploy", {}).get("replicas"):
    bad("compose: the worker service must scale (replicas, no fixed name "
        "or ports)")
if "5555-5560:5555-5560" not in services.get("broker", {}).get("ports", []):
    bad("compose: the broker publishes 5555-5560")
if not any(p.endswith(":8080") for p in services.get("gateway", {}).get(
        "ports", [])):
    bad("compose: the gateway publishes 8080")

# ---- kubernetes ------------------------------------------------------
kdir = os.path.join(DEPLOY, "kubernetes")
kust = load(os.path.join(kdir, "kustomization.yaml"))
khead = open(os.path.join(kdir, "kustomization.yaml")).read()
gen = {}   # name -> (kind, {key: file})
for kind in ("configMapGenerator", "secretGenerator"):
    for g in kust.get(kind, []):
        files = {}
        for f in g.get("files", []):
            key, _, path = f.partition("=")
            if not path:
                key, path = os.path.basename(f), f
            files[key] = path
            m = re.match(r"keys/(\w+?)(_secret)?$", path)
            if m:
                if "zscan keygen keys/%s" % m.group(1) not in khead:
                    bad("kustomization: %s: the header does not say how to "
                        "make it" % path)
            elif not os.path.isfile(os.path.join(kdir, path)):
                bad("kustomization: %s: no such file" % path)
        gen[g["name"]] = (kind, files)
docs = []
for r in kust.get("resources", []):
    if not os.path.isfile(os.path.join(kdir, r)):
        bad("kustomization: resource %s missing" % r)
    else:
        docs += load(os.path.join(kdir, r), many=True)
deployments = {}
for d in docs:
    for f in ("apiVersion", "kind"):
        if f not in d:
            bad("kubernetes: a document without %s" % f)
    if not d.get("metadata", {}).get("name"):
        bad("kubernetes: a %s without a name" % d.get("kind"))
    if d.get("kind") == "Deployment":
        deployments[d["metadata"]["name"]] = d
kcfg_path = os.path.join(kdir, "zscan.cfg")
section, kcfg = None, {}
for line in open(kcfg_path):
    line = line.split("#")[0].rstrip()
    if not line.strip():
        continue
    if not line.startswith(" "):
        section = line.strip()
        kcfg[section] = {}
    else:
        k, _, v = line.strip().partition("=")
        kcfg[section][k.strip()] = v.strip().strip('"')
for name, d in deployments.items():
    where = "kubernetes %s" % name
    spec = d["spec"]
    tmpl = spec["template"]
    labels = tmpl["metadata"].get("labels", {})
    sel = spec["selector"]["matchLabels"]
    if any(labels.get(k) != v for k, v in sel.items()):
        bad("%s: selector %r does not match its pods %r" % (where, sel,
                                                            labels))
    vols = {v["name"]: v for v in tmpl["spec"].get("volumes", [])}
    for v in vols.values():
        ref = v.get("configMap", {}).get("name") or \
            v.get("secret", {}).get("secretName")
        if ref not in gen:
            bad("%s: volume %s refers to %s, which nothing makes"
                % (where, v["name"], ref))
            continue
        for item in v.get("secret", {}).get("items", []):
            if item["key"] not in gen[ref][1]:
                bad("%s: secret item %s is not in %s" % (where, item["key"],
                                                         ref))
    mounts = {}
    for c in tmpl["spec"]["containers"]:
        if not c.get("image"):
            bad("%s: container %s has no image" % (where, c["name"]))
        check_command(where, c.get("command", []) + c.get("args", []))
        for m in c.get("volumeMounts", []):
            if m["name"] not in vols:
                bad("%s: mount %s has no volume" % (where, m["name"]))
            mounts[m["mountPath"]] = vols.get(m["name"], {})
        comp = c["command"][0].replace("zscan-", "")
        # the config's key paths are where the mounts put them
        for k, p in kcfg.get(comp, {}).items():
            if not k.startswith("curve-"):
                continue
            d_, base = os.path.split(p)
            v = mounts.get(p) or mounts.get(d_)
            if v is None:
                bad("%s: %s %s is not mounted" % (where, k, p))
            elif p not in mounts and "secret" in v:
                items = [i["path"] for i in v["secret"].get("items", [])]
                if base not in items:
                    bad("%s: %s %s is not among the secret's items %r"
                        % (where, k, p, items))
            elif p not in mounts and "configMap" in v:
                if base not in gen.get(v["configMap"]["name"],
                                       ("", {}))[1]:
                    bad("%s: %s %s is not in its ConfigMap" % (where, k, p))
        for probe in ("livenessProbe", "readinessProbe"):
            if comp == "worker":
                break  # a worker serves nothing: the broker watches it
            pr = c.get(probe)
            if not pr:
                bad("%s: no %s" % (where, probe))
                continue
            if "exec" in pr:
                opts = check_command(where + " " + probe,
                                     pr["exec"]["command"])
                if opts.get("--config") != "/etc/zscan/zscan.cfg":
                    bad("%s: %s does not read the config" % (where, probe))
            elif "httpGet" in pr:
                ports = [p.get("name") for p in c.get("ports", [])] + \
                    [p["containerPort"] for p in c.get("ports", [])]
                if pr["httpGet"]["port"] not in ports or \
                        pr["httpGet"]["path"] != "/healthz":
                    bad("%s: %s %r" % (where, probe, pr["httpGet"]))
if deployments.get("zscan-broker", {}).get("spec", {}).get("replicas") != 1:
    bad("kubernetes: the broker must run exactly one replica")
for d in docs:
    if d.get("kind") != "Service":
        continue
    sel = d["spec"]["selector"]
    match = [dep for dep in deployments.values()
             if all(dep["spec"]["template"]["metadata"]["labels"].get(k) == v
                    for k, v in sel.items())]
    if len(match) != 1:
        bad("kubernetes: Service %s selects %d Deployments"
            % (d["metadata"]["name"], len(match)))
        continue
    cports = [p for c in match[0]["spec"]["template"]["spec"]["containers"]
              for p in c.get("ports", [])]
    for p in d["spec"]["ports"]:
        tp = p.get("targetPort", p["port"])
        if not any(tp in (cp.get("name"), cp["containerPort"])
                   for cp in cports):
            bad("kubernetes: Service %s port %s: no container port %s"
                % (d["metadata"]["name"], p.get("name"), tp))
        if isinstance(tp, str):
            num = [cp["containerPort"] for cp in cports
                   if cp.get("name") == tp]
            if num and tp in ("api", "tasks", "reports", "control",
                              "results-in", "results-out") and \
                    num[0] != p["port"]:
                bad("kubernetes: Service %s: %s is %d outside, %d inside "
                    "(clients use base+offset)" % (d["metadata"]["name"], tp,
                                                    p["port"], num[0]))
print("deploy: Dockerfile, compose and kubernetes %s"
      % ("check out" if not failures else "have %d problems"
         % len(failures)))
sys.exit(1 if failures else 0)
