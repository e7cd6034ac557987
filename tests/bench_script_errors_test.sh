#!/usr/bin/env bash
# The benchmark scripts' refusals: a bad option or value gets exit code 2 and one stderr line
# naming it, before any benchmark runs (so this needs no data and no build of its own).
# Usage: bench_script_errors_test.sh ROOT
set -uo pipefail
root="$(realpath "$1")"
passed=0
failures=0

# refuses DESCRIPTION PATTERN SCRIPT ARGS...
refuses() {
  local what="$1" pattern="$2" script="$3"; shift 3
  local err rc=0
  err=$("$root/bench/$script" "$@" 2>&1 >/dev/null) || rc=$?
  if [ "$rc" -eq 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && grep -qiE -- "$pattern" <<<"$err"; then
    echo "ok: $what: $err"; passed=$((passed + 1))
  else
    echo "FAIL: $what: exit $rc, stderr: $err"; failures=$((failures + 1))
  fi
}

refuses "step-breakdown, option without a value" "--net needs a value" step-breakdown --net
refuses "step-breakdown, unknown network" "--net must be seed or s8.*'vgg'" step-breakdown --net vgg
refuses "step-breakdown, unknown norm" "unknown norm 'weight'" step-breakdown weight
refuses "step-breakdown, zero threads" "--threads must be a positive integer.*'0'" step-breakdown --threads 0
refuses "step-breakdown, zero min-time" "--min-time must be a positive number.*'0'" step-breakdown --min-time 0
refuses "step-breakdown, text min-time" "--min-time must be a positive number.*'soon'" step-breakdown --min-time soon
refuses "step-breakdown, unknown option" "unknown option --fast" step-breakdown --fast

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
