#!/usr/bin/env bash
# "Nothing lost, nothing silent": odd things in place of a data file (a directory, a FIFO, a
# symlink loop, a dangling symlink) are refused naming the file and what it is; nothing created.
# Needs no real data: a random but valid CIFAR-10 binary dataset (a fixed seed) is generated.
# Usage: fault_datasets_test.sh NORMLAB_BINARY [TEMP_ROOT]
set -uo pipefail

# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
fault_setup datasets "$1" "${2:-}"

# Odd things in place of data_batch_2.bin (the rest linked to the good files).
odd_data() {
  local dir="$tmp/data-$1"
  mkdir "$dir"
  local f
  for f in "$data"/*; do ln -s "$f" "$dir/"; done
  rm "$dir/data_batch_2.bin"
  echo "$dir"
}
dd_=$(odd_data dir); mkdir "$dd_/data_batch_2.bin"
expect_refusal "a directory in place of a data file" "data_batch_2.bin|is a directory" "$dd_" -- \
  train "${tiny_settings[@]}" --data "$dd_" --out "$tmp/o"
dd_=$(odd_data fifo); mkfifo "$dd_/data_batch_2.bin"
expect_refusal "a FIFO in place of a data file" "data_batch_2.bin|is a FIFO" "$dd_" -- \
  train "${tiny_settings[@]}" --data "$dd_" --out "$tmp/o"
dd_=$(odd_data loop); ln -s data_batch_2.bin "$dd_/data_batch_2.bin"
expect_refusal "a symlink loop in place of a data file" "data_batch_2.bin|symbolic link loop" "$dd_" -- \
  train "${tiny_settings[@]}" --data "$dd_" --out "$tmp/o"
dd_=$(odd_data dangling); ln -s "$tmp/no-such-file" "$dd_/data_batch_2.bin"
expect_refusal "a dangling symlink in place of a data file" "data_batch_2.bin|dangling symbolic link" "$dd_" -- \
  train "${tiny_settings[@]}" --data "$dd_" --out "$tmp/o"
[ ! -e "$tmp/o" ] && ok "refused data creates no run directory" || bad "a refused train left $tmp/o"

finish
