#!/usr/bin/env bash
# The Slurm path of `normlab sweep`, on a real one-node Slurm (scripts/slurm-local): a tiny
# sweep (3 norms x 2 seeds) submitted as a job array with its dependent report job; one task
# preempted mid-training (scontrol requeue: SIGTERM, checkpoint, exit 130, requeued, resumed);
# then every point's weights hash must equal the same point run locally, and the report must
# list all six. Skips (exit 77) only where slurm-wlm is not installed (scripts/setup --slurm).
# Uses the real data in $NORMLAB_SHARED_DATA when present, else a generated dataset.
# Usage: slurm_sweep_test.sh NORMLAB_BINARY SOURCE_ROOT
set -uo pipefail

normlab="$(realpath "$1")"
root="$(realpath "$2")"
# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "SKIP: slurm-wlm/munge not installed (scripts/setup --slurm installs them)"
  exit 77
fi
tmp="$(mktemp -d /tmp/normlab_slurm_sweep.XXXXXX)"
chmod 755 "$tmp"  # munged needs every folder above its socket searchable
cluster="$tmp/cluster"
cleanup() {
  "$root/scripts/slurm-local" down "$cluster" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
unset NORMLAB_DATA

data="${NORMLAB_SHARED_DATA:-}"
if [ -z "$data" ] || [ ! -f "$data/data_batch_1.bin" ]; then
  data="$tmp/data"
  python3 "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/make_fake_cifar10.py" "$data"
fi

cat >"$tmp/tiny.toml" <<'TOML'
[train]
net = "seed"
epochs = 3
limit = 2048
holdout = 256
batch-size = 32
threads = 1

[grid]
norm = ["batch", "group", "layer"]
seed = [1, 2]
TOML

# --- The cluster ------------------------------------------------------------------------------
t=$SECONDS
if ! "$root/scripts/slurm-local" up "$cluster" >"$tmp/up.out" 2>&1; then
  bad "scripts/slurm-local up"; cat "$tmp/up.out"; exit 1
fi
# shellcheck disable=SC1091
source "$cluster/env.sh"
ok "one-node Slurm up ($((SECONDS - t)) s)"

# --- Refused at submission: a task could not find the data --------------------------------------
# No --data, no $NORMLAB_DATA, no data/ in the working directory: nothing written or queued.
mkdir "$tmp/no-data-here"
rc=0; (cd "$tmp/no-data-here" && "$normlab" sweep "$tmp/tiny.toml" --out "$tmp/refused" --slurm --submit) \
  >/dev/null 2>"$tmp/refused.err" || rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/refused.err")" -eq 1 ] &&
   grep -q "^normlab: error: $tmp/no-data-here/data/cifar-10-batches-bin: no such directory" "$tmp/refused.err" &&
   [ ! -e "$tmp/refused" ] && [ -z "$(squeue -h 2>/dev/null)" ]; then
  ok "sweep --slurm --submit without data: refused at submission, nothing written or queued: $(cat "$tmp/refused.err")"
else
  bad "sweep --slurm --submit without data (exit $rc)"; cat "$tmp/refused.err"; squeue
fi

# --- Submit the array and its report job --------------------------------------------------------
out="$tmp/slurm-runs"
rc=0
ids=$("$normlab" sweep "$tmp/tiny.toml" --data "$data" --out "$out" --slurm --submit 2>"$tmp/submit.err") || rc=$?
read -r job report_job <<<"$ids"
if [ "$rc" -eq 0 ] && [ -n "$job" ] && [ -n "$report_job" ] && [ -f "$out/slurm/sweep.sbatch" ]; then
  ok "sweep --slurm --submit: array job $job, report job $report_job"
else
  bad "sweep --slurm --submit (exit $rc): $ids"; cat "$tmp/submit.err"; exit 1
fi
grep -q -- '--array=0-5' "$out/slurm/sweep.sbatch" && grep -q -- '--requeue' "$out/slurm/sweep.sbatch" &&
  grep -q '^exec .*--point "$SLURM_ARRAY_TASK_ID"' "$out/slurm/sweep.sbatch" &&
  ok "the script: 6 array tasks, --requeue, exec normlab ... --point" ||
  bad "the script lacks --array=0-5, --requeue or the exec line"

# --- Preempt task 1 once it is training -----------------------------------------------------------
task_out="$out/slurm/${job}_1.out"
waited=0
until grep -q 'SeedNet/batch' "$task_out" 2>/dev/null; do
  sleep 0.2; waited=$((waited + 1))
  [ "$waited" -lt 600 ] || break
done
if grep -q 'SeedNet/batch' "$task_out" 2>/dev/null; then
  scontrol requeue "${job}_1" && ok "task 1 preempted mid-training (scontrol requeue: SIGTERM then requeue)" ||
    bad "scontrol requeue ${job}_1"
else
  bad "task 1 never started training within 120 s"; squeue; cat "$task_out" 2>/dev/null
fi

# --- Wait for everything (at most 5 minutes) ---------------------------------------------------------
waited=0
while [ -n "$(squeue -h -j "$job,$report_job" 2>/dev/null)" ] && [ "$waited" -lt 300 ]; do
  sleep 1; waited=$((waited + 1))
done
[ "$waited" -lt 300 ] && ok "array and report job done ($((SECONDS - t)) s since up)" ||
  { bad "still queued after 300 s"; squeue; }

restarts=$(scontrol show job "${job}_1" 2>/dev/null | grep -o 'Restarts=[0-9]*' | head -1)
if [ "$restarts" = "Restarts=1" ] && grep -q 'resuming' "$out/slurm/${job}_1.out"; then
  ok "task 1 was requeued once and resumed from its checkpoint ($(grep -o 'resuming[^,]*, step [0-9]*' "$out/slurm/${job}_1.out" | head -1))"
else
  bad "task 1: '$restarts', output: $(tr '\r' '\n' <"$out/slurm/${job}_1.out" | grep -v '^SeedNet/' | head -5)"
fi

# --- The same points, run here: identical weights -------------------------------------------------------
local_out="$tmp/local-runs"
rc=0; "$normlab" sweep "$tmp/tiny.toml" --data "$data" --out "$local_out" --jobs 2 >/dev/null 2>"$tmp/local.err" || rc=$?
[ "$rc" -eq 0 ] && ok "the same sweep run locally" || { bad "local sweep (exit $rc)"; tail -3 "$tmp/local.err"; }
same=0
for dir in "$local_out"/seed-*; do
  name=$(basename "$dir")
  a=$(hash_of "$dir"); b=$(hash_of "$out/$name")
  if [ -n "$a" ] && [ "$a" = "$b" ]; then same=$((same + 1)); else echo "    $name: local $a, slurm ${b:-none}"; fi
done
[ "$same" -eq 6 ] && ok "all 6 points: Slurm weights hash = local weights hash" ||
  bad "$same of 6 points have the local weights hash"

if [ -f "$out/report.md" ] && [ "$(grep -c '^| SeedNet |' "$out/report.md")" -ge 3 ] &&
   ! grep -q 'Not averaged' "$out/report.md"; then
  ok "the dependent job wrote report.md with every point averaged"
else
  bad "report.md missing or incomplete"; cat "$out/report.md" 2>/dev/null | head -20; cat "$out/slurm/report.out" 2>/dev/null | tail -5
fi

# --- Tasks that fail: reported as failed, with the error and the task's output file -------------
# Label 200 in the first record: the sizes are right, so the check at submission passes, and
# every task fails loading the data (exit 2). The data comes from a relative $NORMLAB_DATA.
mkdir "$tmp/bad-labels"
for f in "$data"/*; do ln -s "$f" "$tmp/bad-labels/"; done
rm "$tmp/bad-labels/data_batch_1.bin"
cp "$data/data_batch_1.bin" "$tmp/bad-labels/"
printf '\310' | dd of="$tmp/bad-labels/data_batch_1.bin" bs=1 conv=notrunc 2>/dev/null
failing="$tmp/failing"
rc=0
ids=$(cd "$tmp" && NORMLAB_DATA=bad-labels "$normlab" sweep tiny.toml --grid norm=batch --out "$failing" \
  --slurm --submit 2>"$tmp/failing.err") || rc=$?
read -r fjob freport <<<"$ids"
grep -q "^exec .*'--data' '$tmp/bad-labels' " "$failing/slurm/sweep.sbatch" 2>/dev/null &&
  ok "NORMLAB_DATA=bad-labels: the script holds --data $tmp/bad-labels" ||
  { bad "the script's --data (submit exit $rc)"; cat "$tmp/failing.err"; }
waited=0
while [ -n "$fjob" ] && [ -n "$(squeue -h -j "$fjob,$freport" 2>/dev/null)" ] && [ "$waited" -lt 120 ]; do
  sleep 1; waited=$((waited + 1))
done
"$normlab" sweep "$tmp/tiny.toml" --grid norm=batch --out "$failing" --list >"$tmp/failing.list" 2>&1
why='failed \(exit 2: [^;]*bad-labels/data_batch_1.bin: record 0 has label 200, expected 0-9; see '
if [ -n "$fjob" ] &&
   grep -qE "^0 seed-batch-b32-nb32-lr0.01-s1 ${why}$failing/slurm/${fjob}_0.out\)$" "$tmp/failing.list" &&
   grep -qE "^1 seed-batch-b32-nb32-lr0.01-s2 ${why}$failing/slurm/${fjob}_1.out\)$" "$tmp/failing.list" &&
   [ "$(grep -cE "^- seed-batch-b32-nb32-lr0.01-s[12]: ${why}$failing/slurm/${fjob}_[01].out\)$" "$failing/report.md")" -eq 2 ] &&
   ! grep -q 'not started' "$failing/report.md"; then
  ok "2 failing tasks: --list and the report job say 'failed (exit 2: <error>; see <task output>)'"
else
  bad "failing tasks (job ${fjob:-none})"; cat "$tmp/failing.list"; grep -A3 'Not averaged' "$failing/report.md" 2>/dev/null
  cat "$failing/slurm/report.out" 2>/dev/null | tail -3
fi

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
