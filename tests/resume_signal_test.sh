#!/usr/bin/env bash
# A run interrupted by SIGINT (exit 130, a message saying how to resume) or killed with -9 (no
# chance to save: it goes on from the last epoch's checkpoint) and then resumed with
# `normlab train --resume` ends with the same weights, bit for bit, as the run never stopped.
# The checkpoint a kill -9 leaves is always whole: the resume loads it.
# Needs the real data in $NORMLAB_SHARED_DATA; exits 77 (skip) without it.
# Usage: resume_signal_test.sh NORMLAB_BINARY [TEMP_ROOT]
set -uo pipefail

normlab="$(realpath "$1")"
# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
data="${NORMLAB_SHARED_DATA:-}"
if [ -z "$data" ] || [ ! -f "$data/data_batch_1.bin" ]; then
  echo "SKIP: NORMLAB_SHARED_DATA (real CIFAR-10) not present"
  exit 77
fi
tmp="$(mktemp -d "${2:-${TMPDIR:-/tmp}}/normlab_resume_signal.XXXXXX")"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
unset NORMLAB_DATA

elapsed() { echo "$((SECONDS - $1)) s"; }

# 20 steps an epoch, 3 epochs; validated on 512 held-out images to keep evaluation short.
run=(train --net seed --norm batch --limit 2560 --epochs 3 --batch-size 128 --holdout 512
     --threads 1 --seed 3 --data "$data")

# Starts a run in the background; waits until its first epoch's checkpoint exists (at most
# 120 s). Sets $pid.
start_until_checkpoint() {
  local dir="$1"
  "$normlab" "${run[@]}" --out "$dir" >"$dir.out" 2>"$dir.err" &
  pid=$!
  pids+=("$pid")
  local waited=0
  until [ -f "$dir/checkpoint.bin" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "    run ended before its first checkpoint"; return 1; fi
    sleep 0.1
    waited=$((waited + 1))
    [ "$waited" -lt 1200 ] || { echo "    no checkpoint after 120 s"; return 1; }
  done
}

# --- Reference: uninterrupted ----------------------------------------------------------------
t=$SECONDS
rc=0; "$normlab" "${run[@]}" --out "$tmp/reference" >/dev/null 2>"$tmp/reference.err" || rc=$?
reference=$(hash_of "$tmp/reference" 2>/dev/null)
if [ "$rc" -eq 0 ] && [ -n "$reference" ]; then ok "reference run: weights_hash $reference ($(elapsed $t))"
else bad "reference run (exit $rc)"; tail -3 "$tmp/reference.err"; exit 1; fi

# --- SIGINT after the first epoch, then --resume ---------------------------------------------
t=$SECONDS
dir="$tmp/sigint"
if start_until_checkpoint "$dir"; then
  sleep 0.5  # into epoch 2
  kill -INT "$pid"
  rc=0; wait "$pid" || rc=$?
  [ "$rc" -eq 130 ] && ok "SIGINT: exit code 130" || bad "SIGINT: exit code $rc, expected 130"
  if grep -q "stopped at epoch [0-9]*, step [0-9]*; checkpoint saved. Resume with: normlab train --resume $dir" "$dir.err"; then
    ok "SIGINT: $(grep -o 'stopped at.*' "$dir.err")"
  else
    bad "SIGINT: no resume message"; tail -3 "$dir.err"
  fi
  [ ! -f "$dir/summary.json" ] || bad "SIGINT: the stopped run wrote summary.json"
  # Resumed on 2 threads: the thread count is not the recipe, the bits are the 1-thread run's.
  rc=0; "$normlab" train --resume "$dir" --threads 2 >/dev/null 2>"$dir.resume.err" || rc=$?
  got=$(hash_of "$dir" 2>/dev/null)
  if [ "$rc" -eq 0 ] && [ "$got" = "$reference" ]; then
    ok "SIGINT then --resume --threads 2 ($(grep -o 'resuming.*' "$dir.resume.err")): same weights_hash ($(elapsed $t))"
  else
    bad "SIGINT then --resume: exit $rc, weights_hash '$got', expected $reference"; tail -3 "$dir.resume.err"
  fi
  if cmp -s <(cut -d, -f1-6 "$tmp/reference/metrics.csv") <(cut -d, -f1-6 "$dir/metrics.csv"); then
    ok "SIGINT then --resume: the same metrics.csv (but for seconds)"
  else
    bad "SIGINT then --resume: metrics.csv differs"; diff "$tmp/reference/metrics.csv" "$dir/metrics.csv"
  fi
else
  bad "SIGINT: could not start the run"; tail -3 "$dir.err"
fi

# expect_resume_to_match WHAT DIR T: `--resume DIR` ends with the reference run's weights.
expect_resume_to_match() {
  local what="$1" dir="$2" t="$3"
  rc=0; "$normlab" train --resume "$dir" >/dev/null 2>"$dir.resume.err" || rc=$?
  got=$(hash_of "$dir" 2>/dev/null)
  if [ "$rc" -eq 0 ] && [ "$got" = "$reference" ]; then
    ok "$what, then --resume ($(grep -o 'resuming.*' "$dir.resume.err")): same weights_hash ($(elapsed "$t"))"
  else
    bad "$what, then --resume: exit $rc, weights_hash '$got', expected $reference"; tail -3 "$dir.resume.err"
  fi
}

# --- kill -9 as soon as the run has a checkpoint (its epoch-0 one), then --resume -------------
# The process dies wherever it is (often still loading or in the first steps): the checkpoint on
# disk must be a whole one, and the run continues from it.
t=$SECONDS
dir="$tmp/kill9"
if start_until_checkpoint "$dir"; then
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  expect_resume_to_match "kill -9" "$dir" "$t"
else
  bad "kill -9: could not start the run"; tail -3 "$dir.err"
fi

# --- kill -9 while checkpoints are being rewritten ----------------------------------------------
# Poll the checkpoint (inode, mtime, size) and kill the moment it is replaced (epoch 2's save is
# under way or just done); whatever the timing, the file is epoch 1's or epoch 2's, whole.
t=$SECONDS
dir="$tmp/kill9-late"
if start_until_checkpoint "$dir"; then
  first=$(stat -c %i.%Y.%s "$dir/checkpoint.bin")
  waited=0
  while kill -0 "$pid" 2>/dev/null && [ "$(stat -c %i.%Y.%s "$dir/checkpoint.bin" 2>/dev/null)" = "$first" ] &&
        [ "$waited" -lt 1200 ]; do
    sleep 0.05; waited=$((waited + 1))
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  expect_resume_to_match "kill -9 during a later save" "$dir" "$t"
else
  bad "kill -9 (late): could not start the run"; tail -3 "$dir.err"
fi

if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
