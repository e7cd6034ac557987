#!/usr/bin/env bash
# data/fetch-cifar10 installs a good local copy and refuses bad ones, leaving an existing
# installation untouched. Uses generated files of the real sizes, so it needs no real data.
# Usage: fetch_cifar10_test.sh REPO_ROOT
set -euo pipefail

fetch="$1/data/fetch-cifar10"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

failures=0
check() {  # check DESCRIPTION CONDITION...
  local what="$1"; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

batches=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin
         test_batch.bin)

# A fake good copy: file k is 30,730,000 bytes of value k, so every label is k (0-5).
good="$tmp/good"
mkdir "$good"
for k in 0 1 2 3 4 5; do
  head -c 30730000 /dev/zero | tr '\0' "\\00$k" >"$good/${batches[$k]}"
done
printf '%s\n' airplane automobile bird cat deer dog frog horse ship truck >"$good/batches.meta.txt"
(cd "$good" && sha256sum "${batches[@]}" batches.meta.txt >SHA256SUMS)

# A broken copy: symlinks to the good files (the script copies their content), then a change.
broken() {
  local dir="$tmp/$1"
  mkdir "$dir"
  for f in "$good"/*; do ln -s "$f" "$dir/$(basename "$f")"; done
  echo "$dir"
}

target="$tmp/installed/cifar-10-batches-bin"

# A good copy installs, and replaces what was there.
mkdir -p "$target" && touch "$target/stale"
check "good copy installs" "$fetch" --from "$good" --to "$target"
check "installed batch matches the source" cmp -s "$good/data_batch_3.bin" "$target/data_batch_3.bin"
check "old installation is replaced" test ! -e "$target/stale"
touch "$target/marker"  # must survive every refused install below

# refuses NAME EXPECTED_MESSAGE SOURCE: exit 1, one line naming the problem, target untouched.
refuses() {
  local name="$1" expected="$2" source="$3" status=0
  "$fetch" --from "$source" --to "$target" 2>"$tmp/stderr" >/dev/null || status=$?
  check "$name: exits 1" test "$status" -eq 1
  check "$name: one line on stderr" test "$(wc -l <"$tmp/stderr")" -eq 1
  check "$name: says '$expected'" grep -q -- "$expected" "$tmp/stderr"
  check "$name: existing target untouched" test -e "$target/marker"
  check "$name: existing target still complete" cmp -s "$good/test_batch.bin" "$target/test_batch.bin"
  check "$name: no temporary directory left" \
    test -z "$(find "$(dirname "$target")" -mindepth 1 -maxdepth 1 -name '.*')"
  [[ "$status" -eq 1 ]] || cat "$tmp/stderr"
}

dir="$(broken truncated)"
rm "$dir/data_batch_2.bin" && head -c 30729000 "$good/data_batch_2.bin" >"$dir/data_batch_2.bin"
refuses "truncated file" "data_batch_2.bin: size 30729000 bytes, expected 30730000" "$dir"

dir="$(broken missing)"
rm "$dir/test_batch.bin"
refuses "missing file" "test_batch.bin: missing file" "$dir"

dir="$(broken label)"
rm "$dir/data_batch_4.bin" && cp "$good/data_batch_4.bin" "$dir/data_batch_4.bin"
printf '\x0c' | dd of="$dir/data_batch_4.bin" bs=1 seek=$((3073 * 17)) conv=notrunc status=none
refuses "bad label" "data_batch_4.bin: record 17 has label 12, expected 0-9" "$dir"

dir="$(broken meta)"
rm "$dir/batches.meta.txt" && printf 'airplane\nautomobile\n' >"$dir/batches.meta.txt"
refuses "too few class names" "batches.meta.txt: 2 class names, expected 10" "$dir"

dir="$(broken checksum)"
rm "$dir/SHA256SUMS" && awk '{ printf "%064d  %s\n", 0, $2 }' "$good/SHA256SUMS" >"$dir/SHA256SUMS"
refuses "checksum mismatch" "SHA256SUMS: check failed" "$dir"

refuses "nonexistent source" "no such directory or file" "$tmp/nowhere"

echo "not an archive" >"$tmp/bad.tar.gz"
refuses "bad tarball" "not a readable .tar.gz archive" "$tmp/bad.tar.gz"

# A tarball in the official layout (one cifar-10-batches-bin/ directory) installs too.
mkdir -p "$tmp/tar/cifar-10-batches-bin"
ln -s "$good"/* "$tmp/tar/cifar-10-batches-bin/"
tar -czhf "$tmp/good.tar.gz" -C "$tmp/tar" cifar-10-batches-bin
check "good tarball installs" "$fetch" --from "$tmp/good.tar.gz" --to "$tmp/from-tar"
check "tarball batch matches the source" cmp -s "$good/test_batch.bin" "$tmp/from-tar/test_batch.bin"

status=0; "$fetch" --help >/dev/null || status=$?
check "--help exits 0" test "$status" -eq 0
status=0; "$fetch" --bogus 2>/dev/null || status=$?
check "unknown option exits 2" test "$status" -eq 2

if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
