#!/usr/bin/env bash
# "Nothing lost, nothing silent": restartable from the first second. strace kills a new run
# (SIGKILL) on entering chosen system calls, from the flock of its lock to the first rename after
# its directory is in place; each leaves either no run directory (and a new --out starts over,
# removing the abandoned staging folder) or a whole one that --resume continues: the same weights.
# Needs no real data: a random but valid CIFAR-10 binary dataset (a fixed seed) is generated.
# Needs strace that may trace (else it skips: exit code 77).
# Usage: fault_syscall_kills_test.sh NORMLAB_BINARY [TEMP_ROOT]
set -uo pipefail

# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
strace -f -o /dev/null true 2>/dev/null || skip "strace is not installed or may not trace here"
fault_setup syscall_kills "$1" "${2:-}"
references 1

# Exact points, by strace killing the process on entering a system call. A new run is assembled
# in a hidden sibling (.NAME.new-PID) and renamed into place, so a kill before that rename leaves
# no run directory at all (and a new --out starts over, removing the abandoned sibling), and a
# kill after it leaves a whole one that --resume continues.
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

finish
