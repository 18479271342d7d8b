#!/usr/bin/env bash
# Runs every decoder's libFuzzer target for SECONDS each, from a seed corpus
# of valid encodings.  Any crash, leak or sanitizer report fails the run.
# Usage: tests/fuzz/run.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=$1
secs=${2:-20}
bin=$(cd "$build/bin" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seed"
"$bin/zs_fuzz_corpus" "$work/seed"
n=0
for f in "$bin"/zs_fuzz_*; do
  name=$(basename "$f")
  [ "$name" = zs_fuzz_corpus ] && continue
  mkdir -p "$work/$name"
  echo "fuzz: $name for ${secs}s" >&2
  if ! (cd "$work" && "$f" -max_total_time="$secs" -max_len=4096 \
        -print_final_stats=1 "$work/$name" "$work/seed" \
        >"$work/$name.log" 2>&1); then
    tail -40 "$work/$name.log" >&2
    echo "fuzz: $name FAILED" >&2
    exit 1
  fi
  grep -E "stat::number_of_executed_units" "$work/$name.log" >&2 || true
  n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "fuzz: no targets in $bin" >&2; exit 1; }
echo "fuzz: $n targets clean" >&2
