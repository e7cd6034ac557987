#!/usr/bin/env bash
# "Nothing lost, nothing silent": a full disk (a small tmpfs). A --resume or a new run that runs
# out of space exits with one error line naming the file and the cause, leaves nothing partial,
# and after the space is freed --resume (or a new --out) ends bit-identical to a run never
# interrupted.
# Needs no real data: a random but valid CIFAR-10 binary dataset (a fixed seed) is generated.
# Needs root to mount the tmpfs (else it skips: exit code 77).
# Usage: fault_disk_full_test.sh NORMLAB_BINARY [TEMP_ROOT]
set -uo pipefail

# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
fault_setup disk_full "$1" "${2:-}"
mkdir "$tmp/tmpfs"
mount -t tmpfs -o size=4m tmpfs "$tmp/tmpfs" 2>/dev/null || skip "may not mount a tmpfs here (needs root)"
mnt="$tmp/tmpfs"  # unmounted on exit
references 1 2

# fill_leaving KB: a filler file leaves KB kilobytes free on the tmpfs.
fill_leaving() {
  local avail
  avail=$(df -k --output=avail "$mnt" | tail -1)
  [ "$avail" -le "$1" ] || fallocate -l $(((avail - $1) * 1024)) "$mnt/filler"
}
# disk_case MODE KB: MODE resume: a finished 1-epoch run, every file of it also hard-linked
# elsewhere (so a replaced file frees nothing), then --resume --epochs 2; MODE fresh: a new
# 1-epoch run. KB free for it. On failure: one error line naming the file and the cause, nothing
# partial; then, the space freed, --resume (or a new --out) ends with the uninterrupted weights.
disk_case() {
  local mode="$1" kb="$2" aim="${3:+ (aimed at $3)}" d="$mnt/run" what
  rm -rf "${mnt:?}"/*
  if [ "$mode" = resume ]; then
    cp -a "$tmp/ref1" "$d"
    mkdir "$mnt/pinned"
    (cd "$d" && find . -type f ! -name .lock -printf '%P\n' | while read -r f; do
      ln "$f" "$mnt/pinned/${f//\//_}"; done)
    what="--resume --epochs 2 with ${kb} KB free$aim"
  else
    what="a new run with ${kb} KB free"
  fi
  fill_leaving "$kb"
  if [ "$mode" = resume ]; then
    nl train --resume "$d" --epochs 2 --data "$data"
  else
    nl train "${tiny[@]}" --epochs 1 --out "$d"
  fi
  local expect="${ref[1]}" last
  [ "$mode" = resume ] && expect="${ref[2]}"
  last=$(tail -n 1 "$tmp/err")
  if [ "$rc" -eq 0 ]; then
    ok "$what: it fits, exit 0"
  else
    local problem=""
    [ "$(grep -c '^normlab: error:' "$tmp/err")" -eq 1 ] && grep -q '^normlab: error:' <<<"$last" ||
      problem+=" not one 'normlab: error:' line, last;"
    grep -q "^normlab: error: $d/[^:]*:" <<<"$last" || problem+=" the error names no file under the run;"
    if [ -z "$problem" ]; then ok "$what: exit $rc, $last"
    else bad "$what: exit $rc;$problem"; sed 's/^/    stderr: /' "$tmp/err" | tail -3; fi
    if grep -qiE 'no space left on device|disk is full|disk full' <<<"$last"; then
      ok "$what: the error names the cause"
    else bad "$what: the error does not name the cause (no space left on device): $last"; fi
  fi
  if [ -d "$d" ]; then
    local problems state
    if problems=$(py check_run "$d"); then
      state=$( [ -f "$d/checkpoint.bin" ] && py ckpt "$d/checkpoint.bin" | cut -d' ' -f1)
      ok "$what: nothing partial (PNGs whole, JSON parses, checkpoint ${state:+at epoch }${state:-absent})"
    else bad "$what: $problems"; fi
  else
    ok "$what: the new run directory was removed (nothing partial)"
  fi
  rm -rf "$mnt/filler" "$mnt/pinned"
  if [ -f "$d/config.json" ]; then
    nl train --resume "$d" --epochs "$([ "$mode" = resume ] && echo 2 || echo 1)" --data "$data"
  else
    nl train "${tiny[@]}" --epochs 1 --out "$d"
  fi
  expect_hash "$what: after freeing space, the run ends as one never interrupted" "$d" "$expect"
}
for kb in 0 50 150 300 600 1000; do disk_case resume "$kb"; done
# And amid each big file, from the sizes of the 2-epoch reference's outputs.
mapfile -t aims < <(py plan "$tmp/ref2")
for aim in "${aims[@]}"; do disk_case resume "${aim#* }" "${aim% *}"; done
for kb in 0 50 300 600 1000; do disk_case fresh "$kb"; done

finish
