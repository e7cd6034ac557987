#!/usr/bin/env bash
# "Nothing lost, nothing silent": training options at their edges. --limit 0 (the whole set) is
# accepted; --limit beyond the set and a negative --seed are refused with one line and create no
# run directory.
# Needs no real data: a random but valid CIFAR-10 binary dataset (a fixed seed) is generated.
# Usage: fault_options_test.sh NORMLAB_BINARY [TEMP_ROOT]
set -uo pipefail

# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
fault_setup options "$1" "${2:-}"

# --limit 0 (all 49,936 training images): accepted, it trains; stopped once training is under way.
d="$tmp/limit0"
"$normlab" train --net seed --norm batch --batch-size 32 --holdout 64 --threads 1 --data "$data" \
  --limit 0 --epochs 1 --out "$d" >/dev/null 2>"$tmp/limit0.err" &
p=$!; pids+=("$p")
if wait_for "$d/checkpoint.bin" "$p"; then
  sleep 0.3
  kill -TERM "$p"
else
  kill -9 "$p" 2>/dev/null
fi
r=0; wait "$p" || r=$?
forget "$p"
if [ "$r" -eq 130 ] && grep -q '"limit": 0' "$d/config.json" && ! grep -q 'error' "$tmp/limit0.err"; then
  ok "--limit 0 is accepted (training the whole set; stopped: $(tail -n 1 "$tmp/limit0.err"))"
else bad "--limit 0: exit $r"; sed 's/^/    stderr: /' "$tmp/limit0.err" | tail -3; fi

expect_error "--limit 60000" "--limit|60000" -- \
  train --net seed --norm batch --batch-size 32 --holdout 64 --threads 1 --data "$data" --limit 60000 --out "$tmp/o"
expect_error "--seed -1" "--seed" -- train "${tiny[@]}" --seed -1 --out "$tmp/o"
[ ! -e "$tmp/o" ] && ok "refused options create no run directory" || bad "a refused train left $tmp/o"

finish
