# Shared by the command-line tests (cli_errors, fault_*, resume_signal, sweep_local,
# slurm_sweep): count checks, run normlab, expect a one-line refusal, fingerprint a directory,
# read a run's weights hash. The caller sets $normlab and $tmp. The fault tests' own part (a
# private binary, generated data, reference runs, lock holders) is at the end.

cli_test_lib_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

passed=0
failures=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failures=$((failures + 1)); }

# The weights_hash a finished run's summary.json records ("" when there is none).
hash_of() { grep -o '"weights_hash": *"[0-9a-f]*"' "$1/summary.json" 2>/dev/null | grep -o '[0-9a-f]\{16\}'; }

# nl ARGS...: runs normlab (at most 120 s); sets $rc, stdout in $tmp/out, stderr in $tmp/err.
nl() {
  rc=0
  timeout -k 5 120 "$normlab" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
}

# expect_error DESCRIPTION 'P1|P2...' -- ARGS...: exit code 2, one stderr line starting with
# "normlab: error:" (or "normlab COMMAND: error:" for a mistake on the command line) that
# matches every one of the '|'-separated (case-insensitive) patterns.
expect_error() {
  local what="$1" patterns="$2"; shift 3
  nl "$@"
  local lines
  lines=$(wc -l <"$tmp/err")
  local problem=""
  [ "$rc" -eq 2 ] || problem+=" exit code $rc, expected 2;"
  [ "$lines" -eq 1 ] || problem+=" $lines lines on stderr, expected 1;"
  grep -qE '^normlab( [a-z]+)?: error: ' "$tmp/err" || problem+=" stderr does not start with 'normlab: error: ';"
  local p
  IFS='|' read -r -a plist <<<"$patterns"
  for p in "${plist[@]}"; do
    grep -qiE -- "$p" "$tmp/err" || problem+=" message does not name '$p';"
  done
  if [ -z "$problem" ]; then
    ok "$what: $(cat "$tmp/err")"
  else
    bad "$what:$problem"
    sed 's/^/    stderr: /' "$tmp/err" | head -20
  fi
}

# A listing and checksum of every entry under a directory, to prove it unchanged.
fingerprint() {
  (cd "$1" && find . -printf '%p %y %s %T@\n' | sort && find . -type f -print0 | sort -z |
    xargs -0 -r sha256sum)
}

# expect_refusal DESCRIPTION 'P1|P2...' DIR -- ARGS...: expect_error, and DIR byte-identical after.
expect_refusal() {
  local what="$1" patterns="$2" dir="$3"; shift 4
  local before
  before=$(fingerprint "$dir")
  expect_error "$what" "$patterns" -- "$@"
  if [ "$(fingerprint "$dir")" = "$before" ]; then ok "$what: $(basename "$dir") unchanged"
  else bad "$what: $(basename "$dir") changed"; diff <(echo "$before") <(fingerprint "$dir") | head -10; fi
}

# ---- The fault tests (fault_*_test.sh) ------------------------------------------------------

# skip REASON: the test cannot run here; meson shows it as SKIP (exit code 77).
skip() { echo "SKIP: $1"; exit 77; }

# finish: the closing count line; the exit code says whether every check passed.
finish() {
  echo "($((SECONDS - started)) s)"
  echo "$passed passed, $failures failed"
  [ "$failures" -eq 0 ]
  exit
}

# The fault tests' data and file surgery, in Python (fault_helpers.py: mkdata, ckpt, poison, ...).
py() { python3 "$cli_test_lib_dir/fault_helpers.py" "$@"; }

# fault_setup NAME BINARY [TEMP_ROOT]: a temp dir $tmp (the cwd; removed on exit, with the
# processes listed in $pids and the tmpfs in $mnt), a private copy of BINARY as $normlab (every
# case and its reference runs use the same one, even if the build relinks it meanwhile),
# generated data in $data, and the tiny run's options: $tiny_settings, $tiny (with --data).
fault_setup() {
  local binary
  binary="$(realpath "$2")"
  tmp="$(mktemp -d "${3:-${TMPDIR:-/tmp}}/normlab_$1.XXXXXX")"
  pids=()
  mnt=""
  trap fault_cleanup EXIT
  unset NORMLAB_DATA  # only --data decides where the data is
  cd "$tmp" || exit 1
  started=$SECONDS
  normlab="$tmp/normlab"
  local _
  for _ in $(seq 50); do
    cp "$binary" "$normlab" 2>/dev/null && "$normlab" --version >/dev/null 2>&1 && break
    sleep 0.2
  done
  "$normlab" --version >/dev/null 2>&1 || { bad "cannot run a copy of $binary"; finish; }
  data="$tmp/data"
  py mkdata "$data" || { bad "could not generate the dataset"; finish; }
  # 8 steps an epoch, validated on 64 held-out images: each epoch well under a second.
  tiny_settings=(--net seed --norm batch --batch-size 32 --limit 256 --holdout 64 --threads 1)
  tiny=("${tiny_settings[@]}" --data "$data")
}

fault_cleanup() {
  local p
  for p in "${pids[@]}"; do
    # shellcheck disable=SC2046  # the children's PIDs, one word each
    kill -9 $(ps -o pid= --ppid "$p" 2>/dev/null) "$p" 2>/dev/null
  done
  wait 2>/dev/null
  if [ -n "$mnt" ]; then umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null; fi
  rm -rf "$tmp"
}

# forget PID: once waited for, a process leaves $pids (its PID may be reused by another).
forget() {
  local p keep=()
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}

# references E...: a straight E-epoch tiny run in $tmp/refE for each E, its weights_hash in
# ${ref[E]}; they must differ from each other (so the hashes can tell runs apart). Ends the test
# if one fails: every later check compares against them.
references() {
  declare -gA ref
  local e
  for e in "$@"; do
    nl train "${tiny[@]}" --epochs "$e" --out "$tmp/ref$e"
    ref[$e]=$(hash_of "$tmp/ref$e")
    if [ "$rc" -eq 0 ] && [ -n "${ref[$e]}" ] && [ "$(status_of "$tmp/ref$e")" = finished ]; then
      ok "reference: a straight $e-epoch run, weights_hash ${ref[$e]}"
    else
      bad "reference $e-epoch run (exit $rc)"; tail -3 "$tmp/err"
      finish
    fi
  done
  if [ "$#" -gt 1 ]; then
    if [ "$(for e in "$@"; do echo "${ref[$e]}"; done | sort -u | wc -l)" -eq "$#" ]; then
      ok "the references differ from each other (the hashes can tell runs apart)"
    else bad "reference weights_hashes do not differ: ${ref[*]}"; fi
  fi
}

status_of() { grep -o '"status": *"[a-z]*"' "$1/summary.json" 2>/dev/null | grep -o '[a-z]*"$' | tr -d '"'; }

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

# expect_hash DESCRIPTION DIR HASH: the last command exited 0 and DIR's summary has HASH.
expect_hash() {
  local got
  got=$(hash_of "$2")
  if [ "$rc" -eq 0 ] && [ -n "$got" ] && [ "$got" = "$3" ]; then ok "$1: weights_hash $got"
  else bad "$1: exit $rc, weights_hash '$got', expected $3"; sed 's/^/    stderr: /' "$tmp/err" | tail -3; fi
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

# The PID(s) /proc/locks shows holding a flock on FILE (matched by inode).
lock_holders() {
  local ino kind pid where
  ino=$(stat -c %i "$1") || return
  while read -r _ kind _ _ pid where _; do
    [ "$kind" = FLOCK ] && [ "${where##*:}" = "$ino" ] && echo "$pid"
  done </proc/locks
}

# hold_lock DIR: a helper (`flock FILE sleep` in the background) takes DIR/.lock's flock and
# keeps it; sets $lock_pid (the helper), $holder (the PID /proc/locks names: the flock process,
# or its child). 0 if all is in place.
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
