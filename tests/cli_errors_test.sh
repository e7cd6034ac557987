#!/usr/bin/env bash
# The command line's contract at its boundaries: every refusal exits 2 with exactly one line on
# stderr ("normlab: error: ...") naming the problem, and leaves what it refused untouched;
# --help, --version and summary answer. Needs no real data: the "dataset" is six sparse
# full-size files of zero bytes (valid records, all label 0), a tiny training on it makes a
# real run directory and weights export to break.
# Usage: cli_errors_test.sh NORMLAB_BINARY [TEMP_ROOT]
set -uo pipefail

normlab="$(realpath "$1")"
# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
tmp="$(mktemp -d "${2:-${TMPDIR:-/tmp}}/normlab_cli_errors.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
unset NORMLAB_DATA  # only --data decides where the data is
cd "$tmp" || exit 1
printf '[grid\nseed = [1\n' >"$tmp/not-toml.toml"



# --- Fake data -------------------------------------------------------------------------------
batches=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin
         test_batch.bin)
fake="$tmp/fake-data"
mkdir "$fake"
for f in "${batches[@]}"; do truncate -s 30730000 "$fake/$f"; done  # 10,000 zero records
printf '%s\n' airplane automobile bird cat deer dog frog horse ship truck >"$fake/batches.meta.txt"

truncated="$tmp/truncated-data"
mkdir "$truncated"
for f in "${batches[@]}"; do truncate -s 30730000 "$truncated/$f"; done
truncate -s 30729999 "$truncated/data_batch_3.bin"  # one byte short of 10,000 records
cp "$fake/batches.meta.txt" "$truncated/"

small="$tmp/small-data"  # "make small fake files": a few records per file
mkdir "$small"
for f in "${batches[@]}"; do truncate -s 9219 "$small/$f"; done  # 3 records
cp "$fake/batches.meta.txt" "$small/"

tiny=(--net seed --norm batch --epochs 1 --batch-size 32 --limit 64 --holdout 32 --threads 1)

# --- Help, version, summary ------------------------------------------------------------------
rc=0; "$normlab" --help >"$tmp/help" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && grep -q train "$tmp/help" && grep -q compare "$tmp/help" &&
   grep -q eval "$tmp/help" && grep -q summary "$tmp/help"; then
  ok "--help exits 0 and lists the commands"
else
  bad "--help (exit $rc)"; cat "$tmp/help"
fi
rc=0; "$normlab" train --help >"$tmp/help" 2>&1 || rc=$?
missing=""
for opt in --net --norm --epochs --seed --threads --batch-size --norm-batch --lr --momentum --nesterov \
           --no-nesterov --weight-decay --decay-norms --schedule --label-smoothing --no-flip \
           --no-crop --crop-padding --jitter --no-jitter --cutout --no-cutout --cutout-size --tta \
           --no-tta --limit --holdout --data --out --resume; do
  grep -qe "$opt\b" "$tmp/help" || missing+=" $opt"
done
if [ "$rc" -eq 0 ] && [ -z "$missing" ]; then ok "train --help exits 0 and documents every option"
else bad "train --help (exit $rc) lacks:$missing"; fi
rc=0; "$normlab" eval --help >"$tmp/help" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && grep -q -- --weights "$tmp/help" && grep -q -- --net "$tmp/help" &&
   grep -q -- --norm "$tmp/help"; then ok "eval --help documents --weights, --net, --norm"
else bad "eval --help (exit $rc)"; fi

rc=0; out=$("$normlab" --version 2>&1) || rc=$?
if [ "$rc" -eq 0 ] && [[ "$out" =~ ^normlab\ [0-9]+\.[0-9]+\.[0-9]+$ ]]; then ok "--version: $out"
else bad "--version (exit $rc): $out"; fi

for norm in batch group layer instance; do
  rc=0; out=$("$normlab" summary --net seed --norm "$norm" 2>&1) || rc=$?
  if [ "$rc" -eq 0 ] && grep -q 'Total params: 35,504$' <<<"$out"; then
    ok "summary --net seed --norm $norm: 35,504 parameters"
  else
    bad "summary --net seed --norm $norm (exit $rc)"; echo "$out" | grep -i params
  fi
done
for net in s8 s8-plain; do
  rc=0; out=$("$normlab" summary --net "$net" --norm group 2>&1) || rc=$?
  if [ "$rc" -eq 0 ] && grep -q 'Total params: 48,880$' <<<"$out"; then
    ok "summary --net $net: 48,880 parameters"
  else
    bad "summary --net $net (exit $rc)"; echo "$out" | grep -i params
  fi
done
# The control: the same network with each norm layer removed, 8 x 2 x C parameters fewer.
rc=0; out=$("$normlab" summary --net seed --norm none 2>&1) || rc=$?
if [ "$rc" -eq 0 ] && grep -q 'Total params: 35,120$' <<<"$out" && ! grep -q Norm <<<"$out"; then
  ok "summary --net seed --norm none: 35,120 parameters, no norm layer"
else bad "summary --net seed --norm none (exit $rc)"; echo "$out" | grep -i 'params\|norm'; fi
rc=0; out=$("$normlab" summary --net s8 --norm layer 2>&1) || rc=$?
if grep -q '^WSConv3x3-1 ' <<<"$out" && grep -q '^Conv1x1-24 ' <<<"$out"; then
  ok "s8 standardises the convolutions' weights, not the classifier's"
else bad "s8's layer table: $(grep -c WSConv <<<"$out") WSConv rows"; fi
rc=0; out=$("$normlab" summary --net s8 --norm none 2>&1) || rc=$?
if [ "$rc" -eq 0 ] && grep -q '^Conv3x3-1 ' <<<"$out" && ! grep -q WSConv <<<"$out"; then
  ok "s8 without norms: no convolution feeds a norm, none standardises"
else bad "s8 --norm none's layer table (exit $rc): $(grep -c WSConv <<<"$out") WSConv rows"; fi

# --- Options out of range (refused before any data is read) ----------------------------------
expect_error "unknown option" '--bogus' -- train --bogus 3 --data "$fake" --out "$tmp/o"
expect_error "unknown command" 'frobnicate' -- frobnicate

# --- A mistake on the command line: the command, a likely fix, that command's --help --------
# expect_line DESCRIPTION LINE -- ARGS...: exit code 2 and LINE, exactly, as the only stderr line.
expect_line() {
  local what="$1" line="$2"; shift 3
  nl "$@"
  if [ "$rc" -eq 2 ] && [ "$(cat "$tmp/err")" = "$line" ]; then ok "$what: $line"
  else bad "$what: exit $rc, stderr:"; sed 's/^/    /' "$tmp/err"; echo "    expected: $line"; fi
}
expect_line "train --nrom" \
  "normlab train: error: unknown option --nrom (did you mean --norm?) (see normlab train --help)" -- \
  train --nrom group --data "$fake" --out "$tmp/o"
expect_line "train --nrom=group" \
  "normlab train: error: unknown option --nrom (did you mean --norm?) (see normlab train --help)" -- \
  train --nrom=group --data "$fake" --out "$tmp/o"
expect_line "train --learning-rate (nothing near it)" \
  "normlab train: error: unknown option --learning-rate (see normlab train --help)" -- \
  train --learning-rate 0.1 --data "$fake" --out "$tmp/o"
expect_line "compare --nrom: compare's own --norms, not the --norm it refuses" \
  "normlab compare: error: unknown option --nrom (did you mean --norms?) (see normlab compare --help)" -- \
  compare --nrom group --data "$fake" --out "$tmp/o"
expect_line "sweep --lsit" \
  "normlab sweep: error: unknown option --lsit (did you mean --list?) (see normlab sweep --help)" -- \
  sweep --grid seed=1 --lsit
expect_line "summary --precison" \
  "normlab summary: error: unknown option --precison (did you mean --precision?) (see normlab summary --help)" -- \
  summary --precison bf16
expect_line "a stray word" \
  "normlab train: error: unexpected argument 'group' (see normlab train --help)" -- \
  train --net seed group --data "$fake" --out "$tmp/o"
expect_error "sweep --set nrom=group" "unknown key 'nrom' \\(did you mean norm\\?\\)" -- sweep --set nrom=group
expect_line "normlab trian" "normlab: error: unknown command 'trian' (did you mean train?) (see normlab --help)" -- \
  trian --net seed
expect_error "a bad value points to the command's help" '^normlab train: error: .*fast.*\(see normlab train --help\)$' -- \
  train --lr fast --data "$fake" --out "$tmp/o"
expect_error "compare --seeds 0 points to compare's help" '^normlab compare: error: .*--seeds.*\(see normlab compare --help\)$' -- \
  compare --seeds 0 --data "$fake" --out "$tmp/o"
expect_error "paired switches still exclude each other" '^normlab train: error: .*--nesterov.*--no-nesterov.*\(see normlab train --help\)$' -- \
  train --nesterov --no-nesterov --data "$fake" --out "$tmp/o"
if grep -q 'see normlab --help' "$tmp/err"; then bad "a command's error points to normlab --help"; fi
expect_error "--epochs 0" '--epochs' -- train --epochs 0 --data "$fake" --out "$tmp/o"
expect_error "--lr -1" '--lr' -- train --lr -1 --data "$fake" --out "$tmp/o"
expect_error "--lr not a number" '--lr|fast' -- train --lr fast --data "$fake" --out "$tmp/o"
expect_error "--threads 0" '--threads' -- train --threads 0 --data "$fake" --out "$tmp/o"
expect_error "--batch-size 0" '--batch-size' -- train --batch-size 0 --data "$fake" --out "$tmp/o"
expect_error "sweep --slurm --partition with a space" '--partition|one word' -- \
  sweep --grid seed=1 --slurm --partition 'a b'
expect_error "sweep --grid without =" '--grid|KEY=VALUE' -- sweep --grid seed
expect_error "sweep file that is not TOML" 'not-toml.toml|not valid TOML' -- sweep "$tmp/not-toml.toml"
# [[skip]] leaves out the points matching every key; a key or value the grid lacks is a typo.
skip_sweep() { printf '[train]\nnet = "seed"\n[grid]\nseed = [1, 2]\nnorm = ["batch", "group"]\n%s\n' "$1" >"$tmp/skip.toml"; }
skip_sweep $'[[skip]]\nnorm = "group"\nseed = [2]'
listed="$("$normlab" sweep "$tmp/skip.toml" --list --out "$tmp/skip-out" 2>&1 | cut -d' ' -f2 | tr '\n' ' ')"
[ "$listed" = "seed-batch-b128-nb128-lr0.01-s1 seed-group-b128-lr0.01-s1 seed-batch-b128-nb128-lr0.01-s2 " ] &&
  ok "[[skip]] leaves out exactly the matching point" || bad "[[skip]] listed: $listed"
skip_sweep $'[[skip]]\nnorm = "instance"'
expect_error "[[skip]] of a value the grid lacks" 'skip.toml|skip #1: norm = instance is not one of the grid' -- sweep "$tmp/skip.toml" --list
skip_sweep $'[[skip]]\nlr = 0.1'
expect_error "[[skip]] of a key that is no grid axis" "skip #1: 'lr' is not a grid axis" -- sweep "$tmp/skip.toml" --list
skip_sweep $'[[skip]]\nseed = [1, 2]'
expect_error "[[skip]] of every point" 'every point of the grid is skipped' -- sweep "$tmp/skip.toml" --list
expect_error "sweep --report of a sweep never run" 'no-such-sweep: no such sweep directory' -- \
  sweep --grid seed=1 --out "$tmp/no-such-sweep" --report
expect_error "sweep --reuse-from a missing directory" 'no-such-runs: --reuse-from: no such directory' -- \
  sweep --grid seed=1 --out "$tmp/reuse-out" --data "$fake" --reuse-from "$tmp/no-such-runs"
[ ! -e "$tmp/reuse-out" ] && ok "refused --reuse-from: nothing written" || bad "a refused --reuse-from wrote $tmp/reuse-out"
skip_sweep $'[skip]\nseed = 1'
expect_error "[skip] as a table" 'must be an array of tables' -- sweep "$tmp/skip.toml" --list

# --- sweep --slurm: what every task needs is checked at submission, not left to fail in the queue --
# No --data, no $NORMLAB_DATA and no data/ here: refused naming where training would look.
expect_error "sweep --slurm without data" "$tmp/data/cifar-10-batches-bin|no such directory" -- \
  sweep --grid seed=1,2 --slurm --out "$tmp/slurm-nodata"
[ ! -e "$tmp/slurm-nodata" ] && ok "sweep --slurm without data: nothing written" ||
  bad "sweep --slurm without data wrote $tmp/slurm-nodata"
expect_error "sweep --slurm over a truncated data file" 'data_batch_3.bin|not a multiple' -- \
  sweep --grid seed=1,2 --slurm --data "$truncated" --out "$tmp/slurm-truncated"
touch "$tmp/a-file"  # root may write anywhere: only a file in the path makes --out uncreatable
expect_error "sweep --slurm with an uncreatable --out" 'a-file/sub|a-file is not a directory' -- \
  sweep --grid seed=1,2 --slurm --data "$fake" --out "$tmp/a-file/sub"
[ ! -e "$tmp/slurm-truncated" ] && [ -f "$tmp/a-file" ] && [ ! -s "$tmp/a-file" ] &&
  ok "refused sweep --slurm: nothing written" || bad "a refused sweep --slurm wrote something"
# The program the script would exec is gone (deleted since it started: run through an open fd).
cp "$normlab" "$tmp/normlab-gone"
exec 3<"$tmp/normlab-gone"
rm "$tmp/normlab-gone"
rc=0; /proc/self/fd/3 sweep --grid seed=1 --slurm --data "$fake" --out "$tmp/slurm-gone" >/dev/null 2>"$tmp/err" || rc=$?
exec 3<&-
[ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'normlab-gone (deleted).*cannot be executed' "$tmp/err" &&
  [ ! -e "$tmp/slurm-gone" ] && ok "sweep --slurm from a deleted program: $(cat "$tmp/err")" ||
  { bad "sweep --slurm from a deleted program (exit $rc)"; cat "$tmp/err"; }
# A relative $NORMLAB_DATA is written into the script as the absolute path a task resolves.
rc=0; NORMLAB_DATA=fake-data "$normlab" sweep --grid seed=1,2 --slurm --out "$tmp/slurm-ok" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" -eq 0 ] && grep -q "^exec .*'--data' '$fake' " "$tmp/slurm-ok/slurm/sweep.sbatch" &&
  ok "sweep --slurm with NORMLAB_DATA=fake-data: the script holds --data $fake" ||
  { bad "sweep --slurm with a relative NORMLAB_DATA (exit $rc)"; cat "$tmp/err" "$tmp/slurm-ok/slurm/sweep.sbatch"; }
expect_error "--norm-batch 3" '--norm-batch must divide the batch size 128, not be 3' -- \
  train --norm-batch 3 --data "$fake" --out "$tmp/o"
expect_error "--norm-batch 64 of 32" '--norm-batch must divide the batch size 32, not be 64' -- \
  train --norm-batch 64 --batch-size 32 --data "$fake" --out "$tmp/o"
expect_error "--net resnet" '--net|resnet' -- train --net resnet --data "$fake" --out "$tmp/o"
expect_error "--norm batchnorm" '--norm|batchnorm' -- train --norm batchnorm --data "$fake" --out "$tmp/o"
expect_error "--groups 3" '--groups 3 does not divide every GroupNorm layer.s channels: gn1 has 16 channels' -- \
  train --norm group --groups 3 --data "$fake" --out "$tmp/o"
expect_error "--groups 32 on s8" '--groups 32 does not divide every GroupNorm layer.s channels: gn1 has 16 channels' -- \
  train --net s8 --norm group --groups 32 --data "$fake" --out "$tmp/o"
expect_error "--groups 0" '--groups must be between 1 and 1024' -- train --norm group --groups 0 --data "$fake" --out "$tmp/o"
expect_error "--init xavier" '--init|xavier' -- train --init xavier --data "$fake" --out "$tmp/o"
expect_error "--conv fft" '--conv|fft' -- train --conv fft --data "$fake" --out "$tmp/o"
expect_error "--precision fp16" '--precision|fp16' -- train --precision fp16 --data "$fake" --out "$tmp/o"
expect_error "bf16 with winograd" '--precision bf16 needs direct convolutions' -- \
  train --precision bf16 --conv winograd --data "$fake" --out "$tmp/o"
expect_error "summary: bf16 with winograd" '--precision bf16 needs direct convolutions' -- \
  summary --precision bf16 --conv winograd
expect_error "bf16 with normlab's kernels" '--precision bf16 needs direct convolutions' -- \
  train --precision bf16 --conv normlab --data "$fake" --out "$tmp/o"
# oneDNN 2.6 has Winograd and bf16 convolutions for AVX-512 CPUs only: elsewhere they are refused
# up front, naming the option, not left to fail inside oneDNN.
if ! grep -qw avx512f /proc/cpuinfo; then
  expect_error "winograd without AVX-512" '--conv winograd needs a CPU with AVX-512' -- \
    train --conv winograd --data "$fake" --out "$tmp/o"
  expect_error "bf16 without AVX-512" '--precision bf16 needs a CPU with AVX-512' -- \
    train --precision bf16 --data "$fake" --out "$tmp/o"
  expect_error "summary: bf16 without AVX-512" '--precision bf16 needs a CPU with AVX-512' -- \
    summary --precision bf16
  expect_error "sweep over winograd without AVX-512" '--conv winograd needs a CPU with AVX-512' -- \
    sweep --set epochs=1 --grid conv=direct,winograd --data "$fake" --out "$tmp/o"
fi
expect_error "eval --norm instancenorm" '--norm|instancenorm' -- eval --weights "$tmp" --norm instancenorm
expect_error "summary --net resnet" '--net|resnet' -- summary --net resnet
for flag in nesterov cutout tta; do
  expect_error "--$flag with --no-$flag" "--$flag|--no-$flag" -- \
    train --net s8 --$flag --no-$flag --data "$fake" --out "$tmp/o"
done
expect_error "--jitter with --no-jitter" '--jitter|--no-jitter' -- \
  train --jitter 0.1 --no-jitter --data "$fake" --out "$tmp/o"
if [ ! -e "$tmp/o" ]; then ok "refused options create no run directory"
else bad "a refused train left $tmp/o behind"; fi

# --- Data ------------------------------------------------------------------------------------
expect_error "missing data directory" "$tmp/no-such-data|no such directory" -- \
  train "${tiny[@]}" --data "$tmp/no-such-data" --out "$tmp/o"
expect_error "data directory with a truncated file" 'data_batch_3.bin|truncated' -- \
  train "${tiny[@]}" --data "$truncated" --out "$tmp/o"
expect_error "data directory of small files" 'data_batch_1.bin|3 records|10000' -- \
  train "${tiny[@]}" --data "$small" --out "$tmp/o"
incomplete="$tmp/incomplete-data"
mkdir "$incomplete"
for f in "$fake"/*; do ln -s "$f" "$incomplete/"; done
rm "$incomplete/test_batch.bin"
expect_error "data directory missing a file" 'test_batch.bin|missing' -- \
  train "${tiny[@]}" --data "$incomplete" --out "$tmp/o"
expect_error "--limit below one batch" 'smaller than one batch' -- \
  train --limit 10 --batch-size 32 --threads 1 --data "$fake" --out "$tmp/o"
if [ ! -e "$tmp/o" ]; then ok "refused data or settings create no run directory"
else bad "a refused train left $tmp/o behind: $(ls -A "$tmp/o")"; fi

# --- A real run directory (trained on the fake data) -----------------------------------------
run="$tmp/run"
rc=0; "$normlab" train "${tiny[@]}" --data "$fake" --out "$run" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 0 ] && [ -f "$run/checkpoint.bin" ] && [ -f "$run/summary.json" ] &&
   [ -f "$run/weights/manifest.json" ]; then
  ok "a tiny training on fake data writes a run directory"
else
  bad "tiny training (exit $rc)"; tail -5 "$tmp/err"
  echo "1 check(s) failed; the rest needs that run directory"; exit 1
fi

before=$(fingerprint "$run")
expect_error "train --out into an existing run" "$run|already holds a run" -- \
  train "${tiny[@]}" --data "$fake" --out "$run"
[ "$(fingerprint "$run")" = "$before" ] && ok "the existing run is unchanged" ||
  bad "train --out changed the existing run"

expect_error "--resume of a nonexistent directory" "$tmp/no-such-run" -- \
  train --resume "$tmp/no-such-run" --data "$fake"
mkdir "$tmp/empty-dir"
expect_error "--resume of a directory that is not a run" "$tmp/empty-dir|config.json" -- \
  train --resume "$tmp/empty-dir" --data "$fake"

# A corrupt checkpoint: one byte flipped in the middle (the CRC catches it).
corrupt="$tmp/run-corrupt"
cp -a "$run" "$corrupt"
size=$(stat -c %s "$corrupt/checkpoint.bin")
offset=$((size / 2))
byte=$(od -An -tu1 -j "$offset" -N1 "$corrupt/checkpoint.bin" | tr -d ' ')
printf "$(printf '\\%03o' $(((byte + 1) % 256)))" |
  dd of="$corrupt/checkpoint.bin" bs=1 seek="$offset" conv=notrunc status=none
expect_refusal "--resume of a corrupt checkpoint" 'checkpoint.bin|corrupt|crc' "$corrupt" -- \
  train --resume "$corrupt" --data "$fake"

truncckpt="$tmp/run-truncated"
cp -a "$run" "$truncckpt"
truncate -s $((size - 100)) "$truncckpt/checkpoint.bin"
expect_refusal "--resume of a truncated checkpoint" 'checkpoint.bin|truncated' "$truncckpt" -- \
  train --resume "$truncckpt" --data "$fake"

# A checkpoint of another configuration under this config.json (another norm's run).
other="$tmp/run-group"
"$normlab" train --net seed --norm group --epochs 1 --batch-size 32 --limit 64 --holdout 32 \
  --threads 1 --data "$fake" --out "$other" >/dev/null 2>&1
mixed="$tmp/run-mixed"
cp -a "$run" "$mixed"
cp "$other/checkpoint.bin" "$mixed/checkpoint.bin"
before=$(fingerprint "$mixed")
expect_error "--resume with another norm's checkpoint" 'checkpoint.bin|norm' -- \
  train --resume "$mixed" --data "$fake"
[ "$(fingerprint "$mixed")" = "$before" ] && ok "the mismatched run directory is unchanged" ||
  bad "--resume changed the directory of a mismatched checkpoint"

# --- eval --weights --------------------------------------------------------------------------
eval_args=(--net seed --norm batch --batch-size 32 --threads 1 --data "$fake")
rc=0; "$normlab" eval --weights "$run/weights" "${eval_args[@]}" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 0 ] && grep -q test_accuracy "$tmp/out"; then ok "eval of the valid export works"
else bad "eval of the valid export (exit $rc)"; tail -3 "$tmp/err"; fi

expect_error "eval --weights of a missing directory" "$tmp/no-such-weights" -- \
  eval --weights "$tmp/no-such-weights" "${eval_args[@]}"

# The first tensor's shape in the manifest gets an extra leading dimension; its .npy is then
# rewritten to agree, header by printf, so only the network disagrees.
wrong="$tmp/weights-wrong-shape"
cp -a "$run/weights" "$wrong"
first=$(grep -m1 -o '"name": *"[^"]*"' "$wrong/manifest.json" | sed 's/.*"\([^"]*\)"$/\1/')
first_file=$(grep -m1 -o '"file": *"[^"]*"' "$wrong/manifest.json" | sed 's/.*"\([^"]*\)"$/\1/')
# Shapes are written one number a line or inline; normalise by rewriting the first "shape": [.
awk 'BEGIN{done=0} { if (!done && sub(/"shape": *\[/, "\"shape\": [1, ")) done=1; print }' \
  "$wrong/manifest.json" >"$wrong/manifest.tmp" && mv "$wrong/manifest.tmp" "$wrong/manifest.json"
before=$(fingerprint "$wrong")
expect_error "eval --weights whose manifest has a wrong shape" "$first|shape" -- \
  eval --weights "$wrong" "${eval_args[@]}"
[ "$(fingerprint "$wrong")" = "$before" ] && ok "the refused export is unchanged" ||
  bad "eval changed the refused export"

# A .npy of the wrong shape under a correct manifest: a hand-made header for shape (2,).
npy_wrong="$tmp/weights-wrong-npy"
cp -a "$run/weights" "$npy_wrong"
header="{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
pad=$(((64 - (10 + ${#header} + 1) % 64) % 64))  # data on a 64-byte boundary
{
  printf '\x93NUMPY\x01\x00'
  printf "$(printf '\\%03o\\%03o' $(((${#header} + pad + 1) % 256)) $(((${#header} + pad + 1) / 256)))"
  printf '%s%*s\n' "$header" "$pad" ''
  head -c 8 /dev/zero
} >"$npy_wrong/$first_file"
expect_error "eval --weights with a .npy of the wrong shape" "$first_file|shape" -- \
  eval --weights "$npy_wrong" "${eval_args[@]}"

expect_error "eval of BatchNorm weights as GroupNorm" 'manifest.json|gn1.weight|missing' -- \
  eval --weights "$run/weights" --net seed --norm group --batch-size 32 --threads 1 --data "$fake"

if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
