#!/usr/bin/env bash
# A stale result cannot go unnoticed: for every published study (docs/results/STUDY/study.json),
# today's binary replays the first epoch of the study's first run and must print the published
# metrics exactly (train and test loss and accuracy). A mismatch fails naming the study and the
# commit its runs were made with, unless the README says that study was "made with an older
# engine (commit C)" for one of those commits. oneDNN's kernels differ by instruction set, so a
# study is replayed with ONEDNN_MAX_CPU_ISA set to the one it was made with, and skipped where
# this CPU cannot run it. Skips (77) without the real data or without any study to replay.
# Usage: published_results_test.sh ROOT NORMLAB_BINARY DATA_DIR
set -uo pipefail

root="$(realpath "$1")"
normlab="$(realpath "$2")"
data="${3:-}"
# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
if [ -z "$data" ] || [ ! -f "$data/data_batch_1.bin" ]; then
  echo "SKIP: the data the studies were made with is not here ($data)"
  exit 77
fi
tmp="$(mktemp -d "${TMPDIR:-/tmp}/normlab_published.XXXXXX")"
trap 'pkill -TERM -f "$tmp/" 2>/dev/null; rm -rf "$tmp"' EXIT
has_avx512=0
grep -qw avx512f /proc/cpuinfo && has_avx512=1

replayed=0
for study_json in "$root"/docs/results/*/study.json; do
  [ -f "$study_json" ] || continue
  dir="$(dirname "$study_json")"
  study="$(basename "$dir")"
  first="$(jq -r .first_run "$study_json")"
  isa="$(jq -r .onednn_isa "$study_json")"
  commits="$(jq -r '.commits | join(", ")' "$study_json")"
  mapfile -t replay < <(jq -r '.replay[]' "$study_json")
  if [[ "$isa" == avx512* ]] && [ "$has_avx512" -eq 0 ]; then
    echo "skip: $study was made with oneDNN's $isa kernels, which this CPU cannot run"
    continue
  fi
  out="$tmp/$study"
  # The first epoch only: stop the run once its metrics hold epoch 1.
  (cd "$root" && ONEDNN_MAX_CPU_ISA="${isa^^}" exec "$normlab" "${replay[@]}" --out "$out" --data "$data") \
    >"$tmp/$study.log" 2>&1 &
  pid=$!
  metrics="$out/$first/metrics.csv"
  until { [ -f "$metrics" ] && [ "$(wc -l <"$metrics")" -ge 2 ]; } || ! kill -0 "$pid" 2>/dev/null; do sleep 1; done
  kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  replayed=$((replayed + 1))
  # epoch,learning_rate,train_loss,train_accuracy,test_loss,test_accuracy,seconds: columns 3-6.
  published="$(sed -n 2p "$dir/$first-metrics.csv" | cut -d, -f3-6)"
  today="$(sed -n 2p "$metrics" 2>/dev/null | cut -d, -f3-6)"
  if [ -n "$today" ] && [ "$today" = "$published" ]; then
    ok "$study: today's binary replays the first epoch of $first exactly ($today)"
    continue
  fi
  marked=""
  for c in $(jq -r '.commits[]' "$study_json"); do
    grep -q "$study.*made with an older engine (commit $c)" "$root/README.md" && marked="$c"
  done
  if [ -n "$marked" ]; then
    ok "$study: stale (first epoch $today, published $published), and the README says so (commit $marked)"
  else
    bad "$study: today's binary trains its first run $first differently from the published one (made with commit $commits): first epoch ${today:-<none; see the log>} against $published; republish it (scripts/publish-study $study) or mark its README table as made with an older engine (commit $commits)"
    tail -3 "$tmp/$study.log"
  fi
done

if [ "$replayed" -eq 0 ]; then
  echo "SKIP: no published study that this CPU can replay"
  exit 77
fi
echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
