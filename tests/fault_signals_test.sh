#!/usr/bin/env bash
# "Nothing lost, nothing silent": signals. kill -9 as soon as config.json appears, then
# --resume; SIGINT, SIGTERM and SIGKILL mid-epoch (exit 130 with one line naming the saved
# checkpoint, which holds the mid-epoch state), then --resume: the same weights as a run never
# stopped. While it trains, the run holds the flock on its .lock.
# Needs no real data: a random but valid CIFAR-10 binary dataset (a fixed seed) is generated.
# Usage: fault_signals_test.sh NORMLAB_BINARY [TEMP_ROOT]
set -uo pipefail

# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
fault_setup signals "$1" "${2:-}"
references 1 3

d="$tmp/kill-at-config"
"$normlab" train "${tiny[@]}" --epochs 1 --out "$d" >/dev/null 2>&1 &
p=$!; pids+=("$p")
if wait_for "$d/config.json" "$p"; then
  kill -9 "$p"; wait "$p" 2>/dev/null; forget "$p"
  left=$(ls -A "$d" | tr '\n' ' ')
  nl train --resume "$d" --data "$data"
  expect_hash "kill -9 when config.json appears (left: $left), --resume" "$d" "${ref[1]}"
else bad "config.json never appeared"; kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; forget "$p"; fi

for sig in INT TERM KILL; do
  d="$tmp/signal-$sig"
  "$normlab" train "${tiny[@]}" --epochs 3 --out "$d" >/dev/null 2>"$tmp/signal.err" &
  p=$!; pids+=("$p")
  if ! wait_for "$d/metrics.csv" "$p"; then
    bad "SIG$sig: the run ended its first epoch neither in 60 s nor at all"; kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; forget "$p"; continue
  fi
  sleep 0.1  # into epoch 2 (two epochs are left: the stop always lands mid-epoch)
  if [ "$sig" = INT ]; then
    held_by=$(lock_holders "$d/.lock" | tr '\n' ' ')
    if [ "$held_by" = "$p " ] && [ ! -s "$d/.lock" ]; then
      ok "while it trains, the run holds the flock on its empty .lock (/proc/locks: PID $p)"
    else bad "while it trains: /proc/locks names '$held_by' for .lock (the run is $p), .lock $(stat -c %s "$d/.lock") bytes"; fi
  fi
  kill -"$sig" "$p"
  r=0; wait "$p" 2>/dev/null || r=$?
  forget "$p"
  if [ "$sig" = KILL ]; then
    [ "$r" -eq 137 ] && ok "SIGKILL mid-epoch: killed" || bad "SIGKILL: exit $r"
  else
    last=$(tail -n 1 "$tmp/signal.err")
    if [ "$r" -eq 130 ] && [ "$(grep -c '^normlab: ' "$tmp/signal.err")" -eq 1 ] &&
       grep -qE "^normlab: stopped at epoch [23], step [0-9]+; checkpoint saved\. Resume with: normlab train --resume $d$" <<<"$last"; then
      ok "SIG$sig mid-epoch: exit 130, $last"
    else bad "SIG$sig: exit $r"; sed 's/^/    stderr: /' "$tmp/signal.err" | tail -3; fi
    state=$(py ckpt "$d/checkpoint.bin")
    step_said=$(sed -n 's/.* step \([0-9]*\);.*/\1/p' <<<"$last")
    if [ "${state#* }" = "$step_said" ] && [ "${state#* }" -gt 0 ] && [ ! -e "$d/summary.json" ]; then
      ok "SIG$sig: the checkpoint holds the mid-epoch state (epoch, step: $state), no summary.json"
    else bad "SIG$sig: checkpoint '$state', message step '$step_said', summary.json $( [ -e "$d/summary.json" ] && echo present || echo absent)"; fi
  fi
  nl train --resume "$d" --data "$data"
  expect_hash "SIG$sig mid-epoch, then --resume: equals the uninterrupted run" "$d" "${ref[3]}"
done

finish
