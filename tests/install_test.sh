#!/usr/bin/env bash
# `meson install` of this build into a staging directory (DESTDIR): the binary, the user scripts
# and the benchmarks land under the prefix, and they run from there: normlab --help, the
# installed normlab-compare runs its sibling binary, and the bench scripts find their programs
# beside them (conv-in-step runs normlab_bench once; epoch-benchmark and torch-side-by-side
# train one tiny epoch on generated data).
# Usage: install_test.sh BUILD_DIR
set -uo pipefail

build="$(realpath "$1")"
# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/normlab_install.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
started=$SECONDS
stage="$tmp/stage"

# The install directories this build was configured with.
option() {
  meson introspect --buildoptions "$build" |
    python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
prefix=$(option prefix) bindir=$(option bindir) libexecdir=$(option libexecdir)
[[ $bindir = /* ]] || bindir="$prefix/$bindir"
[[ $libexecdir = /* ]] || libexecdir="$prefix/$libexecdir"
bin="$stage$bindir"
kit="$stage$libexecdir/normlab"

if meson install -C "$build" --no-rebuild --destdir "$stage" >"$tmp/install.log" 2>&1; then
  ok "meson install --destdir (prefix $prefix)"
else
  bad "meson install --destdir failed"; tail -20 "$tmp/install.log" | sed 's/^/    /'
  echo "$passed passed, $failures failed"; exit 1
fi

for f in "$bin/normlab" "$bin/normlab-compare" "$bin/normlab-slurm-local" "$kit/normlab_bench" \
         "$kit/fma-peak" "$kit/epoch-benchmark" "$kit/torch-side-by-side" "$kit/conv-in-step" \
         "$kit/torch_reference.py"; do
  if [ -f "$f" ] && [ -x "$f" ]; then ok "installed: ${f#"$stage"}"
  else bad "not installed (or not executable): ${f#"$stage"}"; fi
done
outside=$(find "$stage" -type f | grep -v "^$stage$prefix/" | head -3)
[ -z "$outside" ] && ok "nothing installed outside the prefix" || bad "installed outside the prefix: $outside"

# run DESCRIPTION PATTERN -- COMMAND...: exit 0 and stdout or stderr matches PATTERN.
run() {
  local what="$1" pattern="$2"; shift 3
  local rc=0
  (cd "$tmp" && timeout -k 5 240 "$@") >"$tmp/out" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ] && grep -qE -- "$pattern" "$tmp/out"; then ok "$what"
  else bad "$what: exit $rc"; tail -8 "$tmp/out" | sed 's/^/    /'; fi
}

run "normlab --help from the install" "Usage|usage" -- "$bin/normlab" --help
run "normlab --version from the install" "[0-9]+\.[0-9]+" -- "$bin/normlab" --version
# In a checkout scripts/compare would run scripts/setup and build; installed it runs its sibling.
run "normlab-compare --help runs the installed normlab's compare" "--norms" -- "$bin/normlab-compare" --help
run "normlab-slurm-local --help" "up \[DIR\]" -- "$bin/normlab-slurm-local" --help

export NORMLAB_THREADS=1
run "conv-in-step from the install (its normlab_bench and fma-peak)" "FMA peak.*GFLOP/s" -- \
  "$kit/conv-in-step" --min-time 0.0001 group
if command -v jq >/dev/null; then
  python3 "$cli_test_lib_dir/make_fake_cifar10.py" "$tmp/data" || bad "could not generate the dataset"
  run "epoch-benchmark from the install (normlab in bin, its fma-peak)" "$bin/normlab train" -- \
    "$kit/epoch-benchmark" --epochs 1 --limit 256 --threads 1 --data "$tmp/data" batch
  run "torch-side-by-side from the install (normlab in bin)" "$bin/normlab train" -- \
    "$kit/torch-side-by-side" --epochs 1 --limit 256 --threads 1 --data "$tmp/data" batch
else
  echo "(epoch-benchmark and torch-side-by-side not run: they need jq)"
fi

echo "($((SECONDS - started)) s)"
echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
