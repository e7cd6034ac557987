#!/usr/bin/env bash
# What the command line shows a person: --help grouped, with each recipe's defaults, in lines an
# 80-column screen shows whole; --dry-run prints the resolved recipe and touches nothing; the
# recipe is printed once at the start of a run; progress lines fit the terminal (a pty of a
# given width), else 80 columns; the network is SeedNet in every label while its option value
# and run directory names stay "seed".
# Needs no real data: a random but valid CIFAR-10 binary dataset (a fixed seed) is generated.
# Usage: cli_output_test.sh NORMLAB_BINARY [TEMP_ROOT]
set -uo pipefail

# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
fault_setup cli_output "$1" "${2:-}"
unset COLUMNS
pty_run() { python3 "$cli_test_lib_dir/pty_run.py" "$@"; }

# check DESCRIPTION COMMAND...: ok if COMMAND succeeds.
check() { local what="$1"; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

# longest FILE [PATTERN]: the longest line (split at carriage returns too, terminal escapes
# removed) that matches PATTERN.
longest() {
  tr '\r' '\n' <"$1" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' | grep -E -- "${2:-.}" | awk '{ print length($0) }' |
    sort -n | tail -1
}

# --- --help ------------------------------------------------------------------------------------
for command in train compare sweep; do
  # Wide: each option's description on one line (the pattern below spans the name and it).
  COLUMNS=1000 "$normlab" "$command" --help 2>&1 | sed -z 's/\n  \{20,\}/ /g' >"$tmp/wide-help"
  "$normlab" "$command" --help >"$tmp/help" 2>&1
  check "$command --help: the learning rate's default in each network's recipe" \
    grep -qE '^ *(--)?lr( FLOAT)? .*SeedNet: 0\.01, S8Net: 0\.1' "$tmp/wide-help"
  check "$command --help: a default all recipes share, once" grep -qE '^ *(--)?momentum( FLOAT)? .*default: 0\.9' "$tmp/wide-help"
  check "$command --help: an enum's default by name" grep -qE '^ *(--)?schedule.*SeedNet: constant, S8Net: one-cycle' "$tmp/wide-help"
  check "$command --help: a pair of switches on one line, with its defaults" \
    grep -qE '^ *(--)?tta / (--)?no-tta .*SeedNet: off, S8Net: on' "$tmp/wide-help"
  check "$command --help: no CLI11 'Excludes:' lists" bash -c "! grep -q 'Excludes' '$tmp/help'"
  for group in Network Optimiser Augmentation Data Run; do
    check "$command --help: the $group group" grep -qE "^ *$group:" "$tmp/help"
  done
  check "$command --help: every line fits 80 columns (longest $(longest "$tmp/help"))" test "$(longest "$tmp/help")" -le 80
done
COLUMNS=1000 "$normlab" train --help >"$tmp/wide-help" 2>&1
"$normlab" --help >"$tmp/help" 2>&1
check "normlab --help: every line fits 80 columns (longest $(longest "$tmp/help"))" test "$(longest "$tmp/help")" -le 80
check "train --help: the network options under Network" \
  bash -c "sed -n '/^Network:/,/^\$/p' '$tmp/wide-help' | grep -q -- '--norm-batch'"
check "train --help: --net names each network and its recipe" \
  grep -q 'seed (SeedNet), s8 (S8Net), s8-plain (S8Net-plain, S8Net.s recipe)' "$tmp/wide-help"
check "train --help: --no-tta has no line of its own" bash -c "! grep -q '^  --no-tta' '$tmp/wide-help'"

# --- --dry-run ---------------------------------------------------------------------------------
mkdir "$tmp/dry" && cd "$tmp/dry" || exit 1
nl train --dry-run
check "train --dry-run exits 0 (exit $rc)" test "$rc" -eq 0
check "train --dry-run prints two recipe lines" test "$(wc -l <"$tmp/out")" -eq 2
check "train --dry-run: net, norm and the seed recipe's values" \
  grep -q '^SeedNet with BatchNorm: net=seed norm=batch .*batch-size=128 lr=0.01 momentum=0.9 nesterov=false' "$tmp/out"
check "train --dry-run: augmentation, data and run values" \
  grep -qE '^SeedNet with BatchNorm: flip=true crop=true crop-padding=4 jitter=0.2 .* seed=1 threads=2( |$)' "$tmp/out"
check "train --dry-run creates nothing (not even runs/)" test -z "$(ls -A "$tmp/dry")"
nl train --net s8 --lr 0.05 --no-tta --dry-run --data "$tmp/no-such-data"
check "train --net s8 --lr 0.05 --no-tta --dry-run: S8Net's recipe with the options given, no data read" \
  bash -c "[ $rc -eq 0 ] && grep -q '^S8Net with BatchNorm: net=s8 .*batch-size=64 lr=0.05 .*nesterov=true .*schedule=one-cycle' '$tmp/out' &&
           grep -q ' tta=false ' '$tmp/out'"
cd "$tmp" || exit 1

run="$tmp/run"
nl train "${tiny[@]}" --epochs 1 --out "$run"
check "a tiny run trains (exit $rc)" test "$rc" -eq 0
# Labels: SeedNet, while the option value and directory names stay "seed".
check "progress lines are labelled SeedNet/batch" grep -q '^SeedNet/batch epoch 1/1 ' "$tmp/err"
check "the closing line names SeedNet" grep -q '^normlab: SeedNet/batch finished' "$tmp/err"
check "config.json keeps the option value" grep -q '"net": "seed"' "$run/config.json"
check "the recipe is printed once at the start of a run" \
  bash -c "[ \$(grep -c '^SeedNet with BatchNorm: net=seed ' '$tmp/err') -eq 1 ] && head -1 '$tmp/err' | grep -q '^SeedNet with BatchNorm: net=seed '"
before=$(fingerprint "$run")
nl train --resume "$run" --epochs 2 --data "$data" --dry-run
check "train --resume --dry-run: exit 0, the run's recipe with the new length" \
  bash -c "[ $rc -eq 0 ] && grep -q 'epochs=2 batch-size=32 ' '$tmp/out'"
check "train --resume --dry-run leaves the run byte-identical" test "$(fingerprint "$run")" = "$before"
expect_error "train --dry-run into an existing run is refused as a run would be" "$run|already holds a run" -- \
  train "${tiny[@]}" --out "$run" --dry-run

mkdir "$tmp/default-out" && cd "$tmp/default-out" || exit 1
nl train "${tiny[@]}" --epochs 1
check "the default run directory keeps its name (runs/seed-batch-seed1)" test -f runs/seed-batch-seed1/config.json
cd "$tmp" || exit 1

# --- Progress lines fit the width ----------------------------------------------------------------
# On a terminal: its width (the live bar is redrawn after a carriage return: one column less).
for columns in 60 80 132; do
  pty_run "$columns" "$normlab" train "${tiny[@]}" --epochs 2 --out "$tmp/pty$columns" >"$tmp/pty.out"
  n=$(longest "$tmp/pty.out" '^SeedNet/')
  check "on a $columns-column terminal the progress lines fit (longest $n)" \
    bash -c "[ -n '$n' ] && [ '$n' -le $columns ] && grep -q '\[#' '$tmp/pty.out'"
done
n=$(longest "$tmp/pty.out" '^SeedNet/batch epoch')
check "a wide terminal gets the full epoch line ($n columns)" grep -q 'train loss .* acc .*test loss .* acc ' "$tmp/pty.out"
# In a log: 80 columns, or $COLUMNS.
nl train --net s8-plain --norm layer --batch-size 32 --limit 256 --holdout 64 --threads 1 --data "$data" \
  --epochs 1 --out "$tmp/log80"
n=$(longest "$tmp/err" '^S8Net-plain/')
check "in a log, the longest label's epoch line fits 80 columns ($n)" bash -c "[ -n '$n' ] && [ '$n' -le 80 ]"
check "in a log, the epoch line has the train and test accuracy" grep -qE '^S8Net-plain/layer epoch 1/1 .*train [0-9.]+%.*test [0-9.]+%' "$tmp/err"
COLUMNS=50 nl train "${tiny[@]}" --epochs 1 --out "$tmp/log50"
n=$(longest "$tmp/err" '^SeedNet/')
check "with COLUMNS=50 the epoch line fits 50 columns ($n)" bash -c "[ -n '$n' ] && [ '$n' -le 50 ]"

finish
