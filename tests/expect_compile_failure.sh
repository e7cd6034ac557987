#!/usr/bin/env bash
# The parameter budget is enforced by the compiler: an over-budget network must fail to
# compile with a message naming its parameter count and the limit, and the declared nets must
# compile. Usage: expect_compile_failure.sh <over_budget.cpp> <include dir> <compiler command...>
set -u
source_file=$1
include_dir=$2
shift 2
compiler=("$@")

out=$("${compiler[@]}" -std=c++20 -fsyntax-only -I "$include_dir" "$source_file" 2>&1)
status=$?
if [ "$status" -eq 0 ]; then
  echo "FAIL: $source_file compiled, but its network is over the parameter budget"
  exit 1
fi
for expected in "ParameterBudget<75456, 50000>" "over the parameter budget"; do
  if ! grep -qF "$expected" <<<"$out"; then
    echo "FAIL: the compiler's message does not contain '$expected':"
    echo "$out"
    exit 1
  fi
done

# The declared networks (SeedNet, S8Net, each asserted within budget) compile.
ok_out=$(printf '#include "normlab/net/nets.hpp"\nusing Net = normlab::SeedNet<normlab::BatchNorm>;\nstatic_assert(Net::parameters == 35504);\n' |
  "${compiler[@]}" -std=c++20 -fsyntax-only -I "$include_dir" -x c++ - 2>&1)
if [ $? -ne 0 ]; then
  echo "FAIL: nets.hpp does not compile:"
  echo "$ok_out"
  exit 1
fi
# The declarations are the compile-time description only: nothing of oneDNN comes with them
# (the layer -> op mapping is the engine's, include/normlab/engine/layer_ops.hpp).
preprocessed=$(printf '#include "normlab/net/nets.hpp"\n' |
  "${compiler[@]}" -std=c++20 -E -I "$include_dir" -x c++ - 2>&1)
if grep -q "dnnl" <<<"$preprocessed"; then
  echo "FAIL: nets.hpp pulls in oneDNN:"
  grep -m3 '^# [0-9]* ".*dnnl' <<<"$preprocessed"
  exit 1
fi
echo "ok: over-budget network rejected with 'ParameterBudget<75456, 50000>'; nets.hpp compiles, without oneDNN"
