#!/usr/bin/env bash
# "Nothing lost, nothing silent": a run directory is owned and locked. --out refuses a non-empty
# directory, a run or a locked directory; --resume and compare refuse a locked run naming the
# holder's PID; a stale lock does not block; of two trainings started at once into one new
# directory, one trains and the other is refused.
# Needs no real data: a random but valid CIFAR-10 binary dataset (a fixed seed) is generated.
# Usage: fault_concurrency_test.sh NORMLAB_BINARY [TEMP_ROOT]
set -uo pipefail

# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
fault_setup concurrency "$1" "${2:-}"
references 1 2

d="$tmp/not-a-run"
mkdir -p "$d/weights"
echo "epoch" >"$d/metrics.csv"
expect_refusal "--out into a directory with files" "$d|not empty|holds metrics.csv, weights/" "$d" -- \
  train "${tiny[@]}" --epochs 1 --out "$d"

d="$tmp/existing-run"
cp -a "$tmp/ref1" "$d"
expect_refusal "--out into a run" "$d: already holds a run; continue it with --resume $d" "$d" -- \
  train "${tiny[@]}" --epochs 1 --out "$d"

# A run directory in use: its lock held by a helper.
d="$tmp/locked-run"
cp -a "$tmp/ref1" "$d"
if hold_lock "$d"; then
  ok "a helper holds $(basename "$d")/.lock: /proc/locks names PID $holder (helper $lock_pid)"
  expect_refusal "--resume of a locked run" "$d|in use by process $holder\b" "$d" -- \
    train --resume "$d" --epochs 2 --data "$data"
  release_lock "$d"
  nl train --resume "$d" --epochs 2 --data "$data"
  expect_hash "--resume after the holder died (a stale lock does not block): extends to 2 epochs" "$d" "${ref[2]}"
fi

d="$tmp/locked-empty"
mkdir "$d"
if hold_lock "$d"; then
  expect_refusal "--out into an empty directory whose lock is held" "$d|in use by process $holder\b" "$d" -- \
    train "${tiny[@]}" --epochs 1 --out "$d"
  release_lock "$d"
  if [ "$(ls -A "$d")" = ".lock" ]; then
    nl train "${tiny[@]}" --epochs 1 --out "$d"
    expect_hash "--out into a directory holding only a free .lock (counts as empty)" "$d" "${ref[1]}"
  else bad "the locked empty directory holds $(ls -A "$d" | tr '\n' ' ')"; fi
fi

# compare, on a run of its own that is locked: unfinished (it would resume it) and finished.
cmp_args=(--net seed --batch-size 32 --limit 256 --holdout 64 --threads 1 --data "$data" --epochs 1 --norms batch)
c="$tmp/compare-locked-unfinished"
mkdir "$c"
cp -a "$tmp/ref1" "$c/batch-seed1"
rm "$c/batch-seed1/summary.json"  # as a kill -9 during the final outputs leaves it
if hold_lock "$c/batch-seed1"; then
  expect_refusal "compare with an unfinished run that is locked" "batch-seed1|in use by process $holder\b" "$c" -- \
    compare "${cmp_args[@]}" --out "$c"
  release_lock "$c/batch-seed1"
fi
c="$tmp/compare-locked-finished"
mkdir "$c"
cp -a "$tmp/ref1" "$c/batch-seed1"
if hold_lock "$c/batch-seed1"; then
  expect_refusal "compare with a finished run that is locked" "batch-seed1|in use by process $holder\b" "$c" -- \
    compare "${cmp_args[@]}" --out "$c"
  release_lock "$c/batch-seed1"
fi

# Exclusive creation: two trainings started at once into the same new directory, one wins.
d="$tmp/race"
"$normlab" train "${tiny[@]}" --epochs 1 --out "$d" >/dev/null 2>"$tmp/race1.err" &
p1=$!; pids+=("$p1")
"$normlab" train "${tiny[@]}" --epochs 1 --out "$d" >/dev/null 2>"$tmp/race2.err" &
p2=$!; pids+=("$p2")
r1=0; wait "$p1" || r1=$?
r2=0; wait "$p2" || r2=$?
forget "$p1"; forget "$p2"
loser_err=""
[ "$r1" -eq 0 ] && [ "$r2" -eq 2 ] && loser_err="$tmp/race2.err"
[ "$r2" -eq 0 ] && [ "$r1" -eq 2 ] && loser_err="$tmp/race1.err"
if [ -n "$loser_err" ] && [ "$(wc -l <"$loser_err")" -eq 1 ] &&
   grep -qE "^normlab: error: $d: (in use by process [0-9]+|already holds a run|exists and is not empty)" "$loser_err" &&
   [ "$(hash_of "$d")" = "${ref[1]}" ]; then
  ok "two --out into one new directory at once: one trains (same weights), the other: $(cat "$loser_err")"
else
  bad "two --out into one new directory at once: exit codes $r1 and $r2, weights_hash '$(hash_of "$d")'"
  cat "$tmp/race1.err" "$tmp/race2.err" | grep -v '^SeedNet/' | sed 's/^/    stderr: /'
fi

finish
