#!/usr/bin/env bash
# "Nothing lost, nothing silent": what --resume continues, refuses or leaves alone. It honours
# --epochs (constant schedule) bit for bit, longer or shorter; it refuses any other change of the
# recipe, --out, a one-cycle run's --epochs, a CRC-valid checkpoint holding nan and a config.json
# with "epochs": 0, each leaving the run untouched; a finished run has nothing to do.
# Needs no real data: a random but valid CIFAR-10 binary dataset (a fixed seed) is generated.
# Usage: fault_resume_test.sh NORMLAB_BINARY [TEMP_ROOT]
set -uo pipefail

# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
fault_setup resume "$1" "${2:-}"
references 1 2 3

# A CRC-valid checkpoint holding nan.
d="$tmp/nan-checkpoint"
cp -a "$tmp/ref1" "$d"
py poison "$d/checkpoint.bin" parameters 100
expect_refusal "--resume of a checkpoint whose parameters hold nan" "$d/checkpoint.bin|parameters|holds nan" "$d" -- \
  train --resume "$d" --epochs 2 --data "$data"

d="$tmp/extend"
cp -a "$tmp/ref1" "$d"
nl train --resume "$d" --epochs 3 --data "$data" --lr 0.01 --batch-size 32 --norm batch --net seed --limit 256
expect_hash "--resume --epochs 3 (and identical options) on a finished 1-epoch run equals a straight 3-epoch run" "$d" "${ref[3]}"

grep -q 'kernels until now' "$tmp/err" && bad "a resume on the same kernels printed the other-kernels note" ||
  ok "--resume on the kernels the run was made with: no note"
# A resume on other oneDNN kernels (SSE4.1's: every x86-64 CPU has them) is noted, and recorded.
d="$tmp/other-kernels"
cp -a "$tmp/ref1" "$d"
first_isa=$(jq -r .provenance.onednn_isa "$d/config.json")
if [ "$first_isa" != sse41 ]; then
  rc=0; ONEDNN_MAX_CPU_ISA=SSE41 timeout -k 5 120 "$normlab" train --resume "$d" --epochs 2 --data "$data" >"$tmp/out" 2>"$tmp/err" || rc=$?
  [ "$rc" -eq 0 ] && grep -q "note: $d trained on oneDNN's $first_isa kernels until now and continues on sse41" "$tmp/err" &&
    [ "$(jq -r '.resumed[-1].onednn_isa' "$d/config.json")" = sse41 ] &&
    ok "--resume on other oneDNN kernels ($first_isa, then sse41): noted on stderr and in config.json's resumed list" ||
    { bad "--resume on other kernels (exit $rc)"; cat "$tmp/err"; }
else ok "skip: the run was made with SSE4.1 kernels already"; fi

# Shortening: a 5-epoch run killed after its first epoch, resumed with --epochs 2.
d="$tmp/shorten"
"$normlab" train "${tiny[@]}" --epochs 5 --out "$d" >/dev/null 2>&1 &
p=$!; pids+=("$p")
if wait_for "$d/metrics.csv" "$p"; then
  kill -9 "$p"; wait "$p" 2>/dev/null; forget "$p"
  state=$(py ckpt "$d/checkpoint.bin")
  nl train --resume "$d" --epochs 2 --data "$data"
  expect_hash "a 5-epoch run killed at checkpoint '$state', --resume --epochs 2: equals a straight 2-epoch run" "$d" "${ref[2]}"
else bad "the 5-epoch run ended its first epoch neither in 60 s nor at all"; kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; forget "$p"; fi

d="$tmp/one-cycle"
nl train "${tiny[@]}" --epochs 1 --schedule one-cycle --out "$d"
if [ "$rc" -eq 0 ]; then
  expect_refusal "--resume --epochs 2 of a one-cycle run" "$d|--epochs 2|one-cycle|cannot be changed" "$d" -- \
    train --resume "$d" --epochs 2 --data "$data"
else bad "one-cycle run (exit $rc)"; fi

d="$tmp/recipe"
cp -a "$tmp/ref1" "$d"
expect_refusal "--resume --lr 0.5" "$d|--lr 0\.5 \(the run has 0\.01\)" "$d" -- train --resume "$d" --lr 0.5 --data "$data"
expect_refusal "--resume --momentum 0.5" "--momentum 0\.5 \(the run has 0\.9\)" "$d" -- train --resume "$d" --momentum 0.5 --data "$data"
expect_refusal "--resume --batch-size 64" "--batch-size 64 \(the run has 32\)" "$d" -- train --resume "$d" --batch-size 64 --data "$data"
expect_refusal "--resume --norm group" "--norm \"?group\"? \(the run has \"?batch\"?\)" "$d" -- train --resume "$d" --norm group --data "$data"
expect_refusal "--resume --seed 7" "--seed 7 \(the run has 1\)" "$d" -- train --resume "$d" --seed 7 --data "$data"
expect_refusal "--resume --limit 128" "--limit 128 \(the run has 256\)" "$d" -- train --resume "$d" --limit 128 --data "$data"
expect_refusal "--resume --conv winograd" "--conv \"?winograd\"? \(the run has \"?direct\"?\)" "$d" -- train --resume "$d" --conv winograd --data "$data"
expect_refusal "--resume --precision bf16" "--precision \"?bf16\"? \(the run has \"?f32\"?\)" "$d" -- train --resume "$d" --precision bf16 --data "$data"
expect_refusal "--resume --no-flip" "--no-flip" "$d" -- train --resume "$d" --no-flip --data "$data"
expect_refusal "--resume --schedule cosine" "--schedule" "$d" -- train --resume "$d" --schedule cosine --data "$data"
expect_refusal "--resume with --out" "--out|--resume" "$d" -- train --resume "$d" --out "$tmp/elsewhere" --data "$data"
[ ! -e "$tmp/elsewhere" ] && ok "--resume with --out created nothing" || bad "--resume with --out created $tmp/elsewhere"

before=$(fingerprint "$d")
nl train --resume "$d" --data "$data" --epochs 1 --lr 0.01
if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/err")" = "normlab: $d is finished (1 epoch); nothing to do" ]; then
  ok "--resume of a finished run with the same epochs: $(cat "$tmp/err")"
else bad "--resume of a finished run: exit $rc"; sed 's/^/    stderr: /' "$tmp/err"; fi
[ "$(fingerprint "$d")" = "$before" ] && ok "the finished run is unchanged" || bad "'nothing to do' changed the run"

d="$tmp/epochs0"
cp -a "$tmp/ref1" "$d"
py set_epochs "$d/config.json" 0
expect_refusal "--resume of a config.json with \"epochs\": 0" "$d/config.json: epochs must be between 1 and 1000" "$d" -- \
  train --resume "$d" --data "$data"

finish
