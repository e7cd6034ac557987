# Shared by the command-line tests (cli_errors, fault_suite, resume_signal, sweep_local,
# slurm_sweep): count checks, run normlab, expect a one-line refusal, fingerprint a directory,
# read a run's weights hash. The caller sets $normlab and $tmp.

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
# "normlab: error:" that matches every one of the '|'-separated (case-insensitive) patterns.
expect_error() {
  local what="$1" patterns="$2"; shift 3
  nl "$@"
  local lines
  lines=$(wc -l <"$tmp/err")
  local problem=""
  [ "$rc" -eq 2 ] || problem+=" exit code $rc, expected 2;"
  [ "$lines" -eq 1 ] || problem+=" $lines lines on stderr, expected 1;"
  grep -q '^normlab: error: ' "$tmp/err" || problem+=" stderr does not start with 'normlab: error: ';"
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
