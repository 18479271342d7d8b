#!/usr/bin/env bash
# Checks deploy/: every section of deploy/zscan.cfg is read by its program
# without error, every key in it is an option that program knows, and the
# systemd units are well-formed (systemd-analyze verify, where present).
# Usage: check.sh BIN_DIR DEPLOY_DIR
set -euo pipefail
bin=$1
deploy=$2
fail=0
declare -A prog=([broker]=zscan-broker [worker]=zscan-worker
                 [gateway]=zscan-gateway [cli]="zscan scan")
check_cfg() {
local cfg=$1
section=""
while IFS= read -r line; do
  line=${line%%#*}
  [[ -z "${line// }" ]] && continue
  if [[ "$line" =~ ^[A-Za-z] ]]; then
    section=$(echo "$line" | tr -d ' ')
    [[ -n "${prog[$section]:-}" ]] || { echo "FAIL: unknown section $section"; fail=1; }
    continue
  fi
  key=$(echo "$line" | sed -E 's/^ +([A-Za-z0-9_-]+) *=.*/\1/')
  p=${prog[$section]:-}
  [ -n "$p" ] || continue
  # shellcheck disable=SC2086 # "zscan scan" is a command and a subcommand
  if ! "$bin"/$p --help | grep -q -- "--$key"; then
    echo "FAIL: [$section] $key is not an option of $p"
    fail=1
  fi
done <"$cfg"
for s in broker worker gateway cli; do
  # shellcheck disable=SC2086
  if ! out=$("$bin"/${prog[$s]} --config "$cfg" --version 2>&1); then
    echo "FAIL: ${prog[$s]} cannot read $cfg: $out"
    fail=1
  fi
done
}
for cfg in "$deploy/zscan.cfg" "$deploy/kubernetes/zscan.cfg"; do
  check_cfg "$cfg"
done
# a broken file is refused with a reason
bad=$(mktemp)
printf 'broker\n    port = lots\n' >"$bad"
if "$bin"/zscan-broker --config "$bad" --version >/dev/null 2>&1; then
  echo "FAIL: a bad config file was accepted"
  fail=1
fi
rm -f "$bad"
if command -v systemd-analyze >/dev/null 2>&1; then
  for u in "$deploy"/systemd/*.service; do
    if ! systemd-analyze verify --man=no "$u" 2>&1 \
         | grep -v "Command /usr/local/bin" | grep -q .; then
      :
    else
      echo "FAIL: systemd-analyze verify $u:"
      systemd-analyze verify --man=no "$u" || true
      fail=1
    fi
  done
else
  # no systemd here: check the units' shape by hand
  for u in "$deploy"/systemd/*.service; do
    for need in '^\[Unit\]' '^\[Service\]' '^\[Install\]' '^ExecStart=/'; do
      grep -q "$need" "$u" || { echo "FAIL: $u lacks $need"; fail=1; }
    done
  done
fi
# every unit: restarted on failure, sandboxed, the program's own key
for u in "$deploy"/systemd/*.service; do
  for need in '^Restart=(on-failure|always)' '^NoNewPrivileges=yes' \
              '^ProtectSystem=strict' '^PrivateTmp=yes' '^DynamicUser=yes' \
              '^CapabilityBoundingSet=$' '^LoadCredential=' \
              '^ExecStart=.* --curve-cert %d/' '^Environment=ZSCAN_CONFIG='; do
    grep -Eq "$need" "$u" || { echo "FAIL: $u lacks $need"; fail=1; }
  done
done
# workers: a template, each instance its own id
grep -Eq '^ExecStart=.*--id [^ ]*%i' "$deploy/systemd/zscan-worker@.service" \
  || { echo "FAIL: zscan-worker@.service gives no per-instance --id"; fail=1; }
[ $fail = 0 ] && echo "deploy: config and units check out"
exit $fail
