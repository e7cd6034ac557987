#!/usr/bin/env bash
# "Nothing lost, nothing silent": exported weights holding nan or +inf are refused by eval,
# naming the file and the value, the weights directory untouched.
# Needs no real data: a random but valid CIFAR-10 binary dataset (a fixed seed) is generated.
# Usage: fault_weights_test.sh NORMLAB_BINARY [TEMP_ROOT]
set -uo pipefail

# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
fault_setup weights "$1" "${2:-}"
references 1

# Exported weights holding nan or +inf.
w="$tmp/nan-weights"
cp -a "$tmp/ref1/weights" "$w"
py npy_set "$w/conv1.weight.npy" 5 nan
expect_refusal "eval --weights with nan in conv1.weight.npy" "conv1.weight.npy|nan" "$w" -- \
  eval --weights "$w" --net seed --norm batch --batch-size 32 --threads 1 --data "$data"
w="$tmp/inf-weights"
cp -a "$tmp/ref1/weights" "$w"
py npy_set "$w/bn2.running_var.npy" 3 inf
expect_refusal "eval --weights with +inf in bn2.running_var.npy" "bn2.running_var|\+inf" "$w" -- \
  eval --weights "$w" --net seed --norm batch --batch-size 32 --threads 1 --data "$data"

finish
