#!/usr/bin/env bash
# Runs every unit test program (ctest label "unit") under valgrind's
# memcheck: any error or definite leak fails.  Usage: tests/valgrind.sh BUILD
set -euo pipefail
build=${1:-build}
mapfile -t cmds < <(cd "$build" && ctest -L unit -N -V \
  | sed -n 's/^[0-9]*: Test command: //p')
[ ${#cmds[@]} -gt 0 ] || { echo "valgrind: no unit tests found" >&2; exit 1; }
for c in "${cmds[@]}"; do
  echo "valgrind: $c" >&2
  # shellcheck disable=SC2086 # the command line is ctest's, split on spaces
  ZS_VALGRIND=1 valgrind -q --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite $c >/dev/null
done
echo "valgrind: ${#cmds[@]} programs clean" >&2
