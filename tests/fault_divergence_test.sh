#!/usr/bin/env bash
# "Nothing lost, nothing silent": non-finite values stop a run. Exit 3, one last error line, the
# last good checkpoint kept (whole and finite), summary "diverged"; --resume diverges again at the
# same place; compare lists a diverged run under its table and does not average it.
# Needs no real data: a random but valid CIFAR-10 binary dataset (a fixed seed) is generated.
# Usage: fault_divergence_test.sh NORMLAB_BINARY [TEMP_ROOT]
set -uo pipefail

# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
fault_setup divergence "$1" "${2:-}"

d="$tmp/diverge-fast"
nl train --net seed --norm batch --limit 256 --holdout 64 --threads 1 --data "$data" --epochs 2 \
  --lr 10 --momentum 0.99 --batch-size 4 --out "$d"
expect_last_error 3 "--lr 10 --momentum 0.99 --batch-size 4: stops in epoch 1" \
  "^normlab: error: $d diverged at epoch 1, step [0-9]+: .+; the checkpoint stays at the last good state \(epoch 0\)$"
[ "$(status_of "$d")" = diverged ] && ok "its summary.json says \"status\": \"diverged\"" ||
  bad "summary.json status is '$(status_of "$d")', expected diverged"
state=$(py ckpt "$d/checkpoint.bin")
[ "$state" = "0 0" ] && ok "its checkpoint is the epoch-0 one, whole and finite" ||
  bad "its checkpoint: $state (expected epoch 0, step 0)"

# A divergence found by the end-of-epoch parameter check, after a good epoch.
d="$tmp/diverge-later"
nl train --net seed --norm batch --limit 256 --holdout 64 --threads 1 --data "$data" --epochs 3 \
  --lr 1 --momentum 0.9 --batch-size 4 --out "$d"
expect_last_error 3 "--lr 1 --momentum 0.9 --batch-size 4: stops" \
  "^normlab: error: $d diverged at epoch [0-9]+, step [0-9]+: .+; the checkpoint stays at the last good state \(epoch [0-9]+\)$"
line=$(tail -n 1 "$tmp/err")
e_div=$(sed -n 's/.* diverged at epoch \([0-9]*\),.*/\1/p' <<<"$line")
k_good=$(sed -n 's/.*last good state (epoch \([0-9]*\)).*/\1/p' <<<"$line")
state=$(py ckpt "$d/checkpoint.bin")
if [ -n "$e_div" ] && [ "$k_good" = "$((e_div - 1))" ] && [ "$state" = "$k_good 0" ]; then
  ok "the checkpoint stays at epoch $k_good, whole and finite (diverged in epoch $e_div)"
else bad "diverged in epoch '$e_div', message says epoch '$k_good', the checkpoint: $state"; fi
[ "$(status_of "$d")" = diverged ] && ok "summary.json: \"status\": \"diverged\"" ||
  bad "summary.json status is '$(status_of "$d")', expected diverged"
nl train --resume "$d" --data "$data"
if [ "$rc" -eq 3 ] && [ "$(tail -n 1 "$tmp/err")" = "$line" ] &&
   ! grep -q 'checkpoint.bin' "$tmp/err"; then
  ok "--resume loads the kept checkpoint and diverges again at the same place: $line"
else bad "--resume of the diverged run: exit $rc"; tail -3 "$tmp/err" | sed 's/^/    stderr: /'; fi

# compare: a norm that diverges is listed under the table, not averaged; exit 3.
c="$tmp/compare-diverged"
nl compare --net seed --limit 256 --holdout 64 --threads 1 --data "$data" --epochs 2 --lr 1 \
  --momentum 0.9 --batch-size 4 --norms batch,group --out "$c"
md="$c/comparison.md"
if [ "$rc" -eq 3 ] && [ -f "$md" ]; then ok "compare with a diverging norm exits 3 and writes comparison.md"
else bad "compare with a diverging norm: exit $rc, comparison.md $( [ -f "$md" ] && echo present || echo missing)"; fi
if [ -f "$md" ]; then
  last_row=$(grep -n '^|' "$md" | tail -1 | cut -d: -f1)
  if tail -n +"$((last_row + 1))" "$md" | grep -qE 'BatchNorm.*diverged.*batch-seed1'; then
    ok "comparison.md lists the diverged run under the table: $(grep -m1 diverged "$md")"
  else bad "comparison.md does not list the diverged BatchNorm run under the table"; cat "$md"; fi
  # The BatchNorm row holds no accuracy (no average of a diverged run); GroupNorm's does.
  bn_row=$(grep '^| BatchNorm ' "$md")
  if [ -n "$bn_row" ] && ! cut -d'|' -f4- <<<"$bn_row" | grep -q '[0-9]' &&
     grep '^| GroupNorm ' "$md" | cut -d'|' -f4- | grep -q '[0-9]'; then
    ok "the diverged norm is not averaged: $bn_row"
  else bad "the BatchNorm row: '$bn_row'"; fi
  [ "$(status_of "$c/batch-seed1")" = diverged ] && ok "batch-seed1/summary.json: diverged" ||
    bad "batch-seed1/summary.json status '$(status_of "$c/batch-seed1")'"
fi

finish
