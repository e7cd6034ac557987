#!/usr/bin/env bash
# "Nothing lost, nothing silent": the run directory's faults, end to end, against the binary.
#   1. ownership and locking: --out refuses a non-empty or running directory, --resume and compare
#      refuse a locked one naming the holder's PID, a stale lock does not block;
#   2. divergence: exit 3, one last error line, the last good checkpoint kept, summary "diverged";
#      non-finite checkpoints and weights refused naming the tensor; compare lists diverged runs;
#   3. resume honours --epochs (constant schedule) bit for bit and refuses other changes;
#   4. restartable from the first second: kill -9 anywhere, then --resume, bit for bit;
#   5. a full disk (a small tmpfs): nothing partial left, the error names file and cause, and
#      after freeing space --resume ends bit-identical;
#   6. small ones (--limit, --seed, a damaged config.json, odd things in place of data files);
#   7. SIGINT, SIGTERM and SIGKILL mid-epoch, then --resume: the same weights.
# Needs no real data: a random but valid CIFAR-10 binary dataset (a fixed seed) is generated.
# Needs root for the tmpfs (else those cases are skipped) and strace for the kills at exact
# syscalls (else skipped).
# Usage: fault_suite_test.sh NORMLAB_BINARY [TEMP_ROOT]
set -uo pipefail

binary="$(realpath "$1")"
# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
tmp="$(mktemp -d "${2:-${TMPDIR:-/tmp}}/normlab_fault_suite.XXXXXX")"
pids=()    # background processes started here (lock holders, trainings)
mnt=""     # the tmpfs, once mounted
cleanup() {
  local p
  for p in "${pids[@]}"; do
    # shellcheck disable=SC2046  # the children's PIDs, one word each
    kill -9 $(ps -o pid= --ppid "$p" 2>/dev/null) "$p" 2>/dev/null
  done
  wait 2>/dev/null
  if [ -n "$mnt" ]; then umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
# Once waited for, a process is forgotten: its PID may be reused by another.
forget() {
  local p keep=()
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}
unset NORMLAB_DATA  # only --data decides where the data is
cd "$tmp" || exit 1
started=$SECONDS

# A private copy of the binary: every case (and its reference runs) uses the same one, even if
# the build tree's is relinked meanwhile.
normlab="$tmp/normlab"
for _ in $(seq 50); do
  cp "$binary" "$normlab" 2>/dev/null && "$normlab" --version >/dev/null 2>&1 && break
  sleep 0.2
done
"$normlab" --version >/dev/null 2>&1 || { echo "FAIL: cannot run a copy of $binary"; echo "0 passed, 1 failed"; exit 1; }




# expect_last_error CODE DESCRIPTION ERE: exit code CODE and, of stderr's lines, exactly one
# starts with "normlab: error:" and it is the last and matches ERE (progress lines may precede it).
expect_last_error() {
  local code="$1" what="$2" pattern="$3" problem=""
  [ "$rc" -eq "$code" ] || problem+=" exit code $rc, expected $code;"
  [ "$(grep -c '^normlab: error:' "$tmp/err")" -eq 1 ] || problem+=" not exactly one 'normlab: error:' line;"
  tail -n 1 "$tmp/err" | grep -q '^normlab: error:' || problem+=" the error is not the last line;"
  tail -n 1 "$tmp/err" | grep -qE -- "$pattern" || problem+=" the last line does not match '$pattern';"
  if [ -z "$problem" ]; then ok "$what: $(tail -n 1 "$tmp/err")"
  else bad "$what:$problem"; sed 's/^/    stderr: /' "$tmp/err" | tail -5; fi
}

status_of() { grep -o '"status": *"[a-z]*"' "$1/summary.json" 2>/dev/null | grep -o '[a-z]*"$' | tr -d '"'; }

# expect_hash DESCRIPTION DIR HASH: the last command exited 0 and DIR's summary has HASH.
expect_hash() {
  local got
  got=$(hash_of "$2")
  if [ "$rc" -eq 0 ] && [ -n "$got" ] && [ "$got" = "$3" ]; then ok "$1: weights_hash $got"
  else bad "$1: exit $rc, weights_hash '$got', expected $3"; sed 's/^/    stderr: /' "$tmp/err" | tail -3; fi
}

# --- Helpers in Python: the dataset, checkpoint and .npy surgery, the output invariants ---------
cat >"$tmp/tools.py" <<'EOF'
import json, math, os, random, struct, sys, zlib

def mkdata(d):  # random pixels, labels i % 10; the same bytes every time (a fixed seed)
    os.makedirs(d, exist_ok=True)
    labels = bytes(i % 10 for i in range(10000))
    rng = random.Random(20240601)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        b = bytearray(rng.randbytes(10000 * 3073))
        b[0::3073] = labels
        with open(os.path.join(d, name), "wb") as f:
            f.write(b)
    with open(os.path.join(d, "batches.meta.txt"), "w") as f:
        f.write("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n")

def read_ckpt(path):
    b = open(path, "rb").read()
    if len(b) < 32 or b[:16] != b"NORMLAB-CKPT\0\0\0\0":
        raise ValueError("wrong magic or too short")
    _version, n = struct.unpack_from("<IQ", b, 16)
    if zlib.crc32(b[:-4]) != struct.unpack("<I", b[-4:])[0]:
        raise ValueError("CRC mismatch")
    meta = json.loads(b[28:28 + n])
    off, blobs = 28 + n, {}
    for e in meta["blobs"]:
        blobs[e["name"]] = (off, e["bytes"])
        off += e["bytes"]
    if off != len(b) - 4:
        raise ValueError("blob lengths do not add up")
    return b, meta, blobs

def check_ckpt(path):
    b, meta, blobs = read_ckpt(path)
    for name, (off, n) in blobs.items():
        if not all(math.isfinite(v) for v in struct.unpack_from(f"<{n // 4}f", b, off)):
            raise ValueError(f"blob {name} holds a non-finite value")
    return meta["state"]["epoch"], meta["state"]["step"]

def ckpt(path):  # "EPOCH STEP" of a whole, finite checkpoint; exit 1 otherwise
    try:
        print(*check_ckpt(path))
    except Exception as e:
        print(f"{path}: {e}")
        sys.exit(1)

def poison(path, blob, index):  # one float of a blob to nan, the CRC made right again
    b, _meta, blobs = read_ckpt(path)
    b = bytearray(b)
    struct.pack_into("<f", b, blobs[blob][0] + 4 * int(index), float("nan"))
    struct.pack_into("<I", b, len(b) - 4, zlib.crc32(bytes(b[:-4])))
    open(path, "wb").write(b)

def npy_data_offset(b):
    assert b[:6] == b"\x93NUMPY", "not a .npy"
    if b[6] == 1:
        return 10 + struct.unpack_from("<H", b, 8)[0]
    return 12 + struct.unpack_from("<I", b, 8)[0]

def npy_set(path, index, value):  # one float32 element of a .npy
    b = bytearray(open(path, "rb").read())
    struct.pack_into("<f", b, npy_data_offset(b) + 4 * int(index), float(value))
    open(path, "wb").write(b)

def set_epochs(path, epochs):
    c = json.load(open(path))
    c["epochs"] = int(epochs)
    open(path, "w").write(json.dumps(c, indent=2) + "\n")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\0\0\0\0IEND\xae\x42\x60\x82"

def check_run(d):  # nothing partial: whole PNGs, parsing JSON, a whole checkpoint, no leftovers
    problems = []
    for root, dirs, files in os.walk(d):
        for name in dirs + files:
            rel = os.path.relpath(os.path.join(root, name), d)
            if name.startswith(".") and name != ".lock":
                problems.append(f"{rel} left behind")
        for name in files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, d)
            try:
                if name.endswith(".png"):
                    b = open(path, "rb").read()
                    if not (b.startswith(PNG_SIGNATURE) and b.endswith(PNG_END)):
                        problems.append(f"{rel} is not a whole PNG ({len(b)} bytes)")
                elif name.endswith(".json"):
                    json.load(open(path))
                elif name == "checkpoint.bin":
                    check_ckpt(path)
            except Exception as e:
                problems.append(f"{rel}: {e}")
    manifest = os.path.join(d, "weights", "manifest.json")
    if os.path.exists(manifest):
        try:
            for t in json.load(open(manifest))["tensors"]:
                b = open(os.path.join(d, "weights", t["file"]), "rb").read()
                n = math.prod(t["shape"])
                if len(b) != npy_data_offset(b) + 4 * n:
                    problems.append(f"weights/{t['file']} is incomplete")
        except Exception as e:
            problems.append(f"weights/: {e}")
    if problems:
        print("; ".join(problems))
        sys.exit(1)

def plan(run):  # free KB that stops `--resume --epochs 2` of a 1-epoch run amid each big file
    order = ["config.json", "checkpoint.bin", "metrics.csv", "metrics.json", "curves.png",
             "confusion.csv", "confusion.png", "misclassified.png", "weights", "summary.json"]
    def kb(path):  # tmpfs charges whole 4 KB pages
        if os.path.isdir(path):
            return sum(kb(os.path.join(path, f)) for f in os.listdir(path))
        return -(-os.path.getsize(path) // 4096) * 4
    before = 0
    for name in order:
        size = kb(os.path.join(run, name))
        if name in ("checkpoint.bin", "curves.png", "confusion.png", "misclassified.png", "weights"):
            print(name, before + size // 2)
        before += size

globals()[sys.argv[1]](*sys.argv[2:])
EOF
py() { python3 "$tmp/tools.py" "$@"; }

# --- Lock holders: `flock FILE sleep` in the background --------------------------------------
# The PID(s) /proc/locks shows holding a flock on FILE (matched by inode).
lock_holders() {
  local ino kind pid where
  ino=$(stat -c %i "$1") || return
  while read -r _ kind _ _ pid where _; do
    [ "$kind" = FLOCK ] && [ "${where##*:}" = "$ino" ] && echo "$pid"
  done </proc/locks
}

# hold_lock DIR: a helper takes DIR/.lock's flock and keeps it; sets $lock_pid (the helper),
# $holder (the PID /proc/locks names: the flock process, or its child). 0 if all is in place.
hold_lock() {
  flock "$1/.lock" sleep 120 &
  lock_pid=$!
  pids+=("$lock_pid")
  holder=""
  local i
  for i in $(seq 100); do
    holder=$(lock_holders "$1/.lock" | head -1)
    [ -n "$holder" ] && break
    sleep 0.05
  done
  if [ -z "$holder" ]; then bad "lock helper: no flock on $1/.lock in /proc/locks"; return 1; fi
  if [ "$holder" != "$lock_pid" ] && ! ps -o pid= --ppid "$lock_pid" | grep -qw "$holder"; then
    bad "lock helper: /proc/locks names $holder, neither the helper $lock_pid nor its child"
    return 1
  fi
}

# release_lock DIR: kills the helper and its child (-9: they die holding it) and waits until the
# kernel has dropped the lock.
release_lock() {
  # shellcheck disable=SC2046  # the child's PID
  kill -9 $(ps -o pid= --ppid "$lock_pid") "$lock_pid" 2>/dev/null
  wait "$lock_pid" 2>/dev/null
  forget "$lock_pid"
  local i
  for i in $(seq 100); do
    [ -z "$(lock_holders "$1/.lock")" ] && return 0
    sleep 0.05
  done
  bad "the helper's lock on $1/.lock outlived it"
}

# wait_for FILE PID: until FILE exists (at most 60 s, and only while PID lives). 0 if it does.
wait_for() {
  local i
  for i in $(seq 6000); do
    [ -e "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || { [ -e "$1" ]; return; }
    sleep 0.01
  done
  return 1
}

# --- Fake data and the reference runs ----------------------------------------------------------
data="$tmp/data"
py mkdata "$data" || { bad "could not generate the dataset"; echo "$passed passed, $failures failed"; exit 1; }
# 8 steps an epoch, validated on 64 held-out images: each epoch well under a second.
tiny_settings=(--net seed --norm batch --batch-size 32 --limit 256 --holdout 64 --threads 1)
tiny=("${tiny_settings[@]}" --data "$data")

declare -A ref
for e in 1 2 3; do
  nl train "${tiny[@]}" --epochs "$e" --out "$tmp/ref$e"
  ref[$e]=$(hash_of "$tmp/ref$e")
  if [ "$rc" -eq 0 ] && [ -n "${ref[$e]}" ] && [ "$(status_of "$tmp/ref$e")" = finished ]; then
    ok "reference: a straight $e-epoch run, weights_hash ${ref[$e]}"
  else
    bad "reference $e-epoch run (exit $rc)"; tail -3 "$tmp/err"
    echo "$passed passed, $failures failed"; exit 1
  fi
done
if [ "${ref[1]}" != "${ref[2]}" ] && [ "${ref[2]}" != "${ref[3]}" ]; then
  ok "the references differ from each other (the hashes can tell runs apart)"
else bad "reference weights_hashes do not differ: ${ref[*]}"; fi

# --- 1. A run directory is owned and locked ---------------------------------------------------
echo "--- 1. ownership and locks"
d="$tmp/not-a-run"
mkdir -p "$d/weights"
echo "epoch" >"$d/metrics.csv"
expect_refusal "--out into a directory with files" "$d|not empty|holds metrics.csv, weights/" "$d" -- \
  train "${tiny[@]}" --epochs 1 --out "$d"

d="$tmp/existing-run"
cp -a "$tmp/ref1" "$d"
expect_refusal "--out into a run" "$d: already holds a run; continue it with --resume $d" "$d" -- \
  train "${tiny[@]}" --epochs 1 --out "$d"

# A run directory in use: its lock held by a helper.
d="$tmp/locked-run"
cp -a "$tmp/ref1" "$d"
if hold_lock "$d"; then
  ok "a helper holds $(basename "$d")/.lock: /proc/locks names PID $holder (helper $lock_pid)"
  expect_refusal "--resume of a locked run" "$d|in use by process $holder\b" "$d" -- \
    train --resume "$d" --epochs 2 --data "$data"
  release_lock "$d"
  nl train --resume "$d" --epochs 2 --data "$data"
  expect_hash "--resume after the holder died (a stale lock does not block): extends to 2 epochs" "$d" "${ref[2]}"
fi

d="$tmp/locked-empty"
mkdir "$d"
if hold_lock "$d"; then
  expect_refusal "--out into an empty directory whose lock is held" "$d|in use by process $holder\b" "$d" -- \
    train "${tiny[@]}" --epochs 1 --out "$d"
  release_lock "$d"
  if [ "$(ls -A "$d")" = ".lock" ]; then
    nl train "${tiny[@]}" --epochs 1 --out "$d"
    expect_hash "--out into a directory holding only a free .lock (counts as empty)" "$d" "${ref[1]}"
  else bad "the locked empty directory holds $(ls -A "$d" | tr '\n' ' ')"; fi
fi

# compare, on a run of its own that is locked: unfinished (it would resume it) and finished.
cmp_args=(--net seed --batch-size 32 --limit 256 --holdout 64 --threads 1 --data "$data" --epochs 1 --norms batch)
c="$tmp/compare-locked-unfinished"
mkdir "$c"
cp -a "$tmp/ref1" "$c/batch-seed1"
rm "$c/batch-seed1/summary.json"  # as a kill -9 during the final outputs leaves it
if hold_lock "$c/batch-seed1"; then
  expect_refusal "compare with an unfinished run that is locked" "batch-seed1|in use by process $holder\b" "$c" -- \
    compare "${cmp_args[@]}" --out "$c"
  release_lock "$c/batch-seed1"
fi
c="$tmp/compare-locked-finished"
mkdir "$c"
cp -a "$tmp/ref1" "$c/batch-seed1"
if hold_lock "$c/batch-seed1"; then
  expect_refusal "compare with a finished run that is locked" "batch-seed1|in use by process $holder\b" "$c" -- \
    compare "${cmp_args[@]}" --out "$c"
  release_lock "$c/batch-seed1"
fi

# Exclusive creation: two trainings started at once into the same new directory, one wins.
d="$tmp/race"
"$normlab" train "${tiny[@]}" --epochs 1 --out "$d" >/dev/null 2>"$tmp/race1.err" &
p1=$!; pids+=("$p1")
"$normlab" train "${tiny[@]}" --epochs 1 --out "$d" >/dev/null 2>"$tmp/race2.err" &
p2=$!; pids+=("$p2")
r1=0; wait "$p1" || r1=$?
r2=0; wait "$p2" || r2=$?
forget "$p1"; forget "$p2"
loser_err=""
[ "$r1" -eq 0 ] && [ "$r2" -eq 2 ] && loser_err="$tmp/race2.err"
[ "$r2" -eq 0 ] && [ "$r1" -eq 2 ] && loser_err="$tmp/race1.err"
if [ -n "$loser_err" ] && [ "$(wc -l <"$loser_err")" -eq 1 ] &&
   grep -qE "^normlab: error: $d: (in use by process [0-9]+|already holds a run|exists and is not empty)" "$loser_err" &&
   [ "$(hash_of "$d")" = "${ref[1]}" ]; then
  ok "two --out into one new directory at once: one trains (same weights), the other: $(cat "$loser_err")"
else
  bad "two --out into one new directory at once: exit codes $r1 and $r2, weights_hash '$(hash_of "$d")'"
  cat "$tmp/race1.err" "$tmp/race2.err" | grep -v '^seed/' | sed 's/^/    stderr: /'
fi

# --- 2. Non-finite values stop a run ----------------------------------------------------------
echo "--- 2. divergence"
d="$tmp/diverge-fast"
nl train --net seed --norm batch --limit 256 --holdout 64 --threads 1 --data "$data" --epochs 2 \
  --lr 10 --momentum 0.99 --batch-size 4 --out "$d"
expect_last_error 3 "--lr 10 --momentum 0.99 --batch-size 4: stops in epoch 1" \
  "^normlab: error: $d diverged at epoch 1, step [0-9]+: .+; the checkpoint stays at the last good state \(epoch 0\)$"
[ "$(status_of "$d")" = diverged ] && ok "its summary.json says \"status\": \"diverged\"" ||
  bad "summary.json status is '$(status_of "$d")', expected diverged"
state=$(py ckpt "$d/checkpoint.bin")
[ "$state" = "0 0" ] && ok "its checkpoint is the epoch-0 one, whole and finite" ||
  bad "its checkpoint: $state (expected epoch 0, step 0)"

# A divergence found by the end-of-epoch parameter check, after a good epoch.
d="$tmp/diverge-later"
nl train --net seed --norm batch --limit 256 --holdout 64 --threads 1 --data "$data" --epochs 3 \
  --lr 1 --momentum 0.9 --batch-size 4 --out "$d"
expect_last_error 3 "--lr 1 --momentum 0.9 --batch-size 4: stops" \
  "^normlab: error: $d diverged at epoch [0-9]+, step [0-9]+: .+; the checkpoint stays at the last good state \(epoch [0-9]+\)$"
line=$(tail -n 1 "$tmp/err")
e_div=$(sed -n 's/.* diverged at epoch \([0-9]*\),.*/\1/p' <<<"$line")
k_good=$(sed -n 's/.*last good state (epoch \([0-9]*\)).*/\1/p' <<<"$line")
state=$(py ckpt "$d/checkpoint.bin")
if [ -n "$e_div" ] && [ "$k_good" = "$((e_div - 1))" ] && [ "$state" = "$k_good 0" ]; then
  ok "the checkpoint stays at epoch $k_good, whole and finite (diverged in epoch $e_div)"
else bad "diverged in epoch '$e_div', message says epoch '$k_good', the checkpoint: $state"; fi
[ "$(status_of "$d")" = diverged ] && ok "summary.json: \"status\": \"diverged\"" ||
  bad "summary.json status is '$(status_of "$d")', expected diverged"
nl train --resume "$d" --data "$data"
if [ "$rc" -eq 3 ] && [ "$(tail -n 1 "$tmp/err")" = "$line" ] &&
   ! grep -q 'checkpoint.bin' "$tmp/err"; then
  ok "--resume loads the kept checkpoint and diverges again at the same place: $line"
else bad "--resume of the diverged run: exit $rc"; tail -3 "$tmp/err" | sed 's/^/    stderr: /'; fi

# A CRC-valid checkpoint holding nan.
d="$tmp/nan-checkpoint"
cp -a "$tmp/ref1" "$d"
py poison "$d/checkpoint.bin" parameters 100
expect_refusal "--resume of a checkpoint whose parameters hold nan" "$d/checkpoint.bin|parameters|holds nan" "$d" -- \
  train --resume "$d" --epochs 2 --data "$data"

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

# compare: a norm that diverges is listed under the table, not averaged; exit 3.
c="$tmp/compare-diverged"
nl compare --net seed --limit 256 --holdout 64 --threads 1 --data "$data" --epochs 2 --lr 1 \
  --momentum 0.9 --batch-size 4 --norms batch,group --out "$c"
md="$c/comparison.md"
if [ "$rc" -eq 3 ] && [ -f "$md" ]; then ok "compare with a diverging norm exits 3 and writes comparison.md"
else bad "compare with a diverging norm: exit $rc, comparison.md $( [ -f "$md" ] && echo present || echo missing)"; fi
if [ -f "$md" ]; then
  last_row=$(grep -n '^|' "$md" | tail -1 | cut -d: -f1)
  if tail -n +"$((last_row + 1))" "$md" | grep -qE 'BatchNorm.*diverged.*batch-seed1'; then
    ok "comparison.md lists the diverged run under the table: $(grep -m1 diverged "$md")"
  else bad "comparison.md does not list the diverged BatchNorm run under the table"; cat "$md"; fi
  # The BatchNorm row holds no accuracy (no average of a diverged run); GroupNorm's does.
  bn_row=$(grep '^| BatchNorm ' "$md")
  if [ -n "$bn_row" ] && ! cut -d'|' -f4- <<<"$bn_row" | grep -q '[0-9]' &&
     grep '^| GroupNorm ' "$md" | cut -d'|' -f4- | grep -q '[0-9]'; then
    ok "the diverged norm is not averaged: $bn_row"
  else bad "the BatchNorm row: '$bn_row'"; fi
  [ "$(status_of "$c/batch-seed1")" = diverged ] && ok "batch-seed1/summary.json: diverged" ||
    bad "batch-seed1/summary.json status '$(status_of "$c/batch-seed1")'"
fi

# --- 3. Resume honours or refuses -------------------------------------------------------------
echo "--- 3. resume"
d="$tmp/extend"
cp -a "$tmp/ref1" "$d"
nl train --resume "$d" --epochs 3 --data "$data" --lr 0.01 --batch-size 32 --norm batch --net seed --limit 256
expect_hash "--resume --epochs 3 (and identical options) on a finished 1-epoch run equals a straight 3-epoch run" "$d" "${ref[3]}"

# Shortening: a 5-epoch run killed after its first epoch, resumed with --epochs 2.
d="$tmp/shorten"
"$normlab" train "${tiny[@]}" --epochs 5 --out "$d" >/dev/null 2>&1 &
p=$!; pids+=("$p")
if wait_for "$d/metrics.csv" "$p"; then
  kill -9 "$p"; wait "$p" 2>/dev/null; forget "$p"
  state=$(py ckpt "$d/checkpoint.bin")
  nl train --resume "$d" --epochs 2 --data "$data"
  expect_hash "a 5-epoch run killed at checkpoint '$state', --resume --epochs 2: equals a straight 2-epoch run" "$d" "${ref[2]}"
else bad "the 5-epoch run ended its first epoch neither in 60 s nor at all"; kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; forget "$p"; fi

d="$tmp/one-cycle"
nl train "${tiny[@]}" --epochs 1 --schedule one-cycle --out "$d"
if [ "$rc" -eq 0 ]; then
  expect_refusal "--resume --epochs 2 of a one-cycle run" "$d|--epochs 2|one-cycle|cannot be changed" "$d" -- \
    train --resume "$d" --epochs 2 --data "$data"
else bad "one-cycle run (exit $rc)"; fi

d="$tmp/recipe"
cp -a "$tmp/ref1" "$d"
expect_refusal "--resume --lr 0.5" "$d|--lr 0\.5 \(the run has 0\.01\)" "$d" -- train --resume "$d" --lr 0.5 --data "$data"
expect_refusal "--resume --momentum 0.5" "--momentum 0\.5 \(the run has 0\.9\)" "$d" -- train --resume "$d" --momentum 0.5 --data "$data"
expect_refusal "--resume --batch-size 64" "--batch-size 64 \(the run has 32\)" "$d" -- train --resume "$d" --batch-size 64 --data "$data"
expect_refusal "--resume --norm group" "--norm \"?group\"? \(the run has \"?batch\"?\)" "$d" -- train --resume "$d" --norm group --data "$data"
expect_refusal "--resume --seed 7" "--seed 7 \(the run has 1\)" "$d" -- train --resume "$d" --seed 7 --data "$data"
expect_refusal "--resume --limit 128" "--limit 128 \(the run has 256\)" "$d" -- train --resume "$d" --limit 128 --data "$data"
expect_refusal "--resume --conv winograd" "--conv \"?winograd\"? \(the run has \"?direct\"?\)" "$d" -- train --resume "$d" --conv winograd --data "$data"
expect_refusal "--resume --precision bf16" "--precision \"?bf16\"? \(the run has \"?f32\"?\)" "$d" -- train --resume "$d" --precision bf16 --data "$data"
expect_refusal "--resume --no-flip" "--no-flip" "$d" -- train --resume "$d" --no-flip --data "$data"
expect_refusal "--resume --schedule cosine" "--schedule" "$d" -- train --resume "$d" --schedule cosine --data "$data"
expect_refusal "--resume with --out" "--out|--resume" "$d" -- train --resume "$d" --out "$tmp/elsewhere" --data "$data"
[ ! -e "$tmp/elsewhere" ] && ok "--resume with --out created nothing" || bad "--resume with --out created $tmp/elsewhere"

before=$(fingerprint "$d")
nl train --resume "$d" --data "$data" --epochs 1 --lr 0.01
if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/err")" = "normlab: $d is finished (1 epochs); nothing to do" ]; then
  ok "--resume of a finished run with the same epochs: $(cat "$tmp/err")"
else bad "--resume of a finished run: exit $rc"; sed 's/^/    stderr: /' "$tmp/err"; fi
[ "$(fingerprint "$d")" = "$before" ] && ok "the finished run is unchanged" || bad "'nothing to do' changed the run"

# --- 4. Restartable from the first second -----------------------------------------------------
echo "--- 4. kill -9 from the first second"
d="$tmp/kill-at-config"
"$normlab" train "${tiny[@]}" --epochs 1 --out "$d" >/dev/null 2>&1 &
p=$!; pids+=("$p")
if wait_for "$d/config.json" "$p"; then
  kill -9 "$p"; wait "$p" 2>/dev/null; forget "$p"
  left=$(ls -A "$d" | tr '\n' ' ')
  nl train --resume "$d" --data "$data"
  expect_hash "kill -9 when config.json appears (left: $left), --resume" "$d" "${ref[1]}"
else bad "config.json never appeared"; kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; forget "$p"; fi

# Exact points, by strace killing the process on entering a system call. A new run is assembled
# in a hidden sibling (.NAME.new-PID) and renamed into place, so a kill before that rename leaves
# no run directory at all (and a new --out starts over, removing the abandoned sibling), and a
# kill after it leaves a whole one that --resume continues.
if strace -f -o /dev/null true 2>/dev/null; then
  kill_points=("flock of the new run's lock, right after its mkdir|-e|trace=flock|-e|inject=flock:signal=KILL:when=1"
               "rename of config.json|-e|trace=rename,renameat,renameat2|-e|inject=rename,renameat,renameat2:signal=KILL:when=1"
               "rename of the epoch-0 checkpoint|-e|trace=rename,renameat,renameat2|-e|inject=rename,renameat,renameat2:signal=KILL:when=2"
               "rename of the run directory into place|-e|trace=rename,renameat,renameat2|-e|inject=rename,renameat,renameat2:signal=KILL:when=3"
               "first rename after the run directory is in place|-e|trace=rename,renameat,renameat2|-e|inject=rename,renameat,renameat2:signal=KILL:when=4")
  i=0
  for point in "${kill_points[@]}"; do
    i=$((i + 1))
    d="$tmp/strace-kill-$i"
    IFS='|' read -r -a spec <<<"$point"
    what="${spec[0]}"; opts=("${spec[@]:1}")
    # (A subshell that is not replaced by its command: the shell's "Killed" notice goes nowhere.)
    (timeout -k 5 120 strace -f -o /dev/null "${opts[@]}" "$normlab" train "${tiny[@]}" --epochs 1 \
       --out "$d" >/dev/null 2>&1; exit $?) 2>/dev/null
    src=$?
    if [ "$src" -ne 137 ]; then
      bad "kill -9 at the $what: strace ended with $src"
      continue
    fi
    if [ -d "$d" ]; then
      left=$(ls -A "$d" | tr '\n' ' ')
      nl train --resume "$d" --data "$data"
      expect_hash "kill -9 at the $what: a whole run directory (${left% }), --resume" "$d" "${ref[1]}"
    else
      abandoned=$(ls -A "$tmp" | grep -c "^\.strace-kill-$i\.new-")
      nl train "${tiny[@]}" --epochs 1 --out "$d"
      expect_hash "kill -9 at the $what: no run directory ($abandoned abandoned staging), a new --out" "$d" "${ref[1]}"
      [ "$(ls -A "$tmp" | grep -c "^\.strace-kill-$i\.new-")" -eq 0 ] &&
        ok "kill -9 at the $what: the new --out removed the abandoned staging folder" ||
        bad "kill -9 at the $what: the abandoned staging folder is still there"
    fi
  done
else
  echo "SKIP: kills at exact system calls (strace not available or not permitted)"
fi

# --- 5. A full disk ---------------------------------------------------------------------------
echo "--- 5. disk full"
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
mnt="$tmp/tmpfs"
mkdir "$mnt"
if mount -t tmpfs -o size=4m tmpfs "$mnt" 2>/dev/null; then
  for kb in 0 50 150 300 600 1000; do disk_case resume "$kb"; done
  # And amid each big file, from the sizes of the 2-epoch reference's outputs.
  mapfile -t aims < <(py plan "$tmp/ref2")
  for aim in "${aims[@]}"; do disk_case resume "${aim#* }" "${aim% *}"; done
  for kb in 0 50 300 600 1000; do disk_case fresh "$kb"; done
  umount "$mnt" && mnt=""
else
  mnt=""
  echo "SKIP: disk-full cases (mount not permitted)"
fi

# --- 6. Small ones ----------------------------------------------------------------------------
echo "--- 6. small ones"
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

d="$tmp/epochs0"
cp -a "$tmp/ref1" "$d"
py set_epochs "$d/config.json" 0
expect_refusal "--resume of a config.json with \"epochs\": 0" "$d/config.json: epochs must be between 1 and 1000" "$d" -- \
  train --resume "$d" --data "$data"

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

# --- 7. Signals mid-epoch ---------------------------------------------------------------------
echo "--- 7. signals"
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

echo "($((SECONDS - started)) s)"
echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
