#!/usr/bin/env bash
# `normlab sweep` on this machine: the grid's points and names (GroupNorm and LayerNorm once
# for every norm batch), a sweep killed with -9 mid-run and rerun (its runs checkpoint on the
# parent's death and resume), a second sweep on the same directory at the same time (no point
# trained twice), SIGTERM to the sweep stopping its points at once, the weights equal to each
# point trained alone, and the report (table, figure, a diverged point listed and not
# averaged). Generated data: needs no real CIFAR-10.
# Usage: sweep_local_test.sh NORMLAB_BINARY
set -uo pipefail

binary="$(realpath "$1")"
# shellcheck source=cli_test_lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_test_lib.sh"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/normlab_sweep_local.XXXXXX")"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  pkill -9 -f "$tmp/normlab" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
unset NORMLAB_DATA
cd "$tmp" || exit 1


# A private copy: the children exec the same file even if the build tree is relinked meanwhile.
normlab="$tmp/normlab"
cp "$binary" "$normlab"

python3 "$here/make_fake_cifar10.py" "$tmp/data"
data="$tmp/data"

cat >"$tmp/grid.toml" <<'TOML'
[train]
net = "seed"
epochs = 3
limit = 1024
holdout = 128
batch-size = 32
threads = 1

[grid]
seed = [1, 2]
norm = ["batch", "group"]
norm-batch = [4, 32]
TOML

# --- The points ---------------------------------------------------------------------------------
"$normlab" sweep grid.toml --out "$tmp/s" --data "$data" --list >"$tmp/list" 2>&1
expected="0 seed-batch-b32-nb4-lr0.01-s1 not started
1 seed-batch-b32-nb32-lr0.01-s1 not started
2 seed-group-b32-lr0.01-s1 not started
3 seed-batch-b32-nb4-lr0.01-s2 not started
4 seed-batch-b32-nb32-lr0.01-s2 not started
5 seed-group-b32-lr0.01-s2 not started"
[ "$(cat "$tmp/list")" = "$expected" ] &&
  ok "6 points from 2 seeds x (batch x 2 norm batches + group once), the first axis slowest" ||
  { bad "the points"; cat "$tmp/list"; }

rc=0; "$normlab" sweep grid.toml --grid norm-batch=3 --out "$tmp/bad" --data "$data" --list >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'norm-batch.*must divide' "$tmp/err" && [ ! -e "$tmp/bad" ] &&
  ok "a point train would refuse is refused before anything runs: $(cat "$tmp/err")" ||
  { bad "--grid norm-batch=3 (exit $rc)"; cat "$tmp/err"; }

# GroupNorm's group count names its points (but the seed's 4); norms without groups run once.
"$normlab" sweep grid.toml --grid norm=group,layer,instance --grid groups=2,4 --grid seed=1 \
  --out "$tmp/g" --data "$data" --list >"$tmp/list_g" 2>&1
expected="0 seed-group2-b32-lr0.01-s1 not started
1 seed-group-b32-lr0.01-s1 not started
2 seed-layer-b32-lr0.01-s1 not started
3 seed-instance-b32-lr0.01-s1 not started"
[ "$(cat "$tmp/list_g")" = "$expected" ] &&
  ok "--grid groups=2,4: group2 and group points, layer and instance once each" ||
  { bad "the group-count points"; cat "$tmp/list_g"; }
# Its report draws accuracy against channels per group (32-channel layers: instance 1, G=4 8,
# G=2 16, LayerNorm 32), one line for the family; a norm family at one G draws no such figure.
rc=0; "$normlab" sweep grid.toml --grid norm=group,layer,instance --grid groups=2,4 --grid seed=1 \
  --set epochs=1 --set limit=256 --set holdout=64 --out "$tmp/g" --data "$data" >"$tmp/g.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && grep -q '(accuracy-vs-channels-per-group.png)' "$tmp/g/report.md" &&
   python3 -c "import sys; d=open(sys.argv[1],'rb').read(); sys.exit(not (d[:4]==b'\x89PNG' and d[-8:-4]==b'IEND'))" \
     "$tmp/g/accuracy-vs-channels-per-group.png" &&
   grep -q '^| SeedNet | GroupNorm | groups=2 |' "$tmp/g/report.md" &&
   grep -q '^| SeedNet | LayerNorm |  |' "$tmp/g/report.md" &&
   grep -q '^| SeedNet | InstanceNorm |  |' "$tmp/g/report.md" &&
   grep -q '(diagnostics-by-setting.png)' "$tmp/g/report.md" && [ -s "$tmp/g/diagnostics-by-setting.png" ]; then
  ok "a group-count sweep's report: accuracy against channels per group, diagnostics by setting, no group count on LayerNorm and instance rows"
else
  bad "group-count report (exit $rc)"; tail -3 "$tmp/g.out"; cat "$tmp/g/report.md" 2>/dev/null | head -20
fi
# Runs that measured the loss landscape: its panels get a figure of their own.
rc=0; "$normlab" sweep grid.toml --grid norm=batch,none --grid seed=1 --set landscape-every=2 \
  --set epochs=1 --set limit=256 --set holdout=64 --out "$tmp/ls" --data "$data" >"$tmp/ls.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] && grep -q '(landscape-by-setting.png)' "$tmp/ls/report.md" && [ -s "$tmp/ls/landscape-by-setting.png" ] &&
  [ ! -e "$tmp/g/landscape-by-setting.png" ] &&
  ok "runs with --landscape-every: a landscape figure by setting (and none without)" ||
  { bad "landscape figure (exit $rc)"; tail -3 "$tmp/ls.out"; ls "$tmp/ls"; }
rc=0; "$normlab" sweep grid.toml --grid norm=group,layer --grid seed=1 \
  --set epochs=1 --set limit=256 --set holdout=64 --out "$tmp/g1" --data "$data" >"$tmp/g1.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] && [ ! -e "$tmp/g1/accuracy-vs-channels-per-group.png" ] && [ -s "$tmp/g1/report.md" ] &&
  ok "norms at one group count: no channels-per-group figure" ||
  { bad "norms at one group count (exit $rc)"; ls "$tmp/g1"; }
rc=0; "$normlab" sweep grid.toml --grid norm=group --grid groups=3 --out "$tmp/bad" --data "$data" --list >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'groups 3 does not divide.*gn1 has 16 channels' "$tmp/err" && [ ! -e "$tmp/bad" ] &&
  ok "--grid groups=3 refused before anything runs: $(cat "$tmp/err")" ||
  { bad "--grid groups=3 (exit $rc)"; cat "$tmp/err"; }

# --- The sweep's binary replaced while it runs: its points keep running the sweep's own code --
cp "$normlab" "$tmp/normlab-old"
rc=0
( "$tmp/normlab-old" sweep grid.toml --grid norm=group --grid seed=1,2 --set epochs=1 --set limit=2048 \
    --set holdout=64 --jobs 1 --out "$tmp/replaced" --data "$data" >"$tmp/replaced.out" 2>&1 ) &
sweep_pid=$!
pids+=("$sweep_pid")
for _ in $(seq 300); do  # the first point has started training
  grep -q 'SeedNet with' "$tmp/replaced/logs/seed-group-b32-lr0.01-s1.log" 2>/dev/null && break; sleep 0.1
done
rm -f "$tmp/normlab-old"
printf '#!/bin/sh\nexit 3\n' >"$tmp/normlab-old"; chmod +x "$tmp/normlab-old"  # what the path now runs
wait "$sweep_pid" || rc=$?
listed="$("$normlab" sweep grid.toml --grid norm=group --grid seed=1,2 --set epochs=1 --set limit=2048 \
    --set holdout=64 --out "$tmp/replaced" --data "$data" --list 2>&1)"
[ "$rc" -eq 0 ] && [ "$(grep -c ' finished$' <<<"$listed")" -eq 2 ] &&
  ok "a sweep whose binary is replaced mid-run finishes every point with its own binary" ||
  { bad "binary replaced mid-sweep (exit $rc)"; echo "$listed"; tail -3 "$tmp/replaced.out"; }

# --- Each point alone: the reference weights ------------------------------------------------------
declare -A ref
for i in 0 1 2 3 4 5; do
  name=$(sed -n "$((i + 1))p" "$tmp/list" | cut -d' ' -f2)
  "$normlab" sweep grid.toml --out "$tmp/alone" --data "$data" --point "$i" >/dev/null 2>&1
  ref[$name]=$(hash_of "$tmp/alone/$name")
done
[ "${#ref[@]}" -eq 6 ] && ok "each point trained alone with --point" || bad "--point runs"

# --- kill -9 of the sweep mid-run, then the same command --------------------------------------------
"$normlab" sweep grid.toml --out "$tmp/s" --data "$data" --jobs 2 >"$tmp/s1.out" 2>&1 &
sweep=$!; pids+=("$sweep")
waited=0
until grep -qs 'SeedNet/' "$tmp"/s/logs/*.log 2>/dev/null || [ "$waited" -ge 600 ]; do sleep 0.1; waited=$((waited + 1)); done
kill -9 "$sweep"; wait "$sweep" 2>/dev/null
# A point told to stop while it writes an epoch's outputs (its PNGs take a while on a busy
# machine) stops at the next step: allow it some seconds, not one.
for _ in $(seq 100); do
  left=$(pgrep -fc "$tmp/normlab sweep" || true)
  [ "$left" -eq 0 ] && break
  sleep 0.1
done
stopped=$(grep -l 'stopped at epoch' "$tmp"/s/logs/*.log 2>/dev/null | wc -l)
[ "$left" -eq 0 ] && [ "$stopped" -ge 1 ] &&
  ok "kill -9 of the sweep: its $stopped running point(s) checkpointed and stopped, no process left" ||
  bad "after kill -9 of the sweep: $left processes left, $stopped points stopped"

# --- SIGTERM to the sweep (kill, scancel): the running points checkpoint and stop at once ---------
"$normlab" sweep grid.toml --out "$tmp/t" --data "$data" --jobs 2 >"$tmp/t.out" 2>&1 &
sweep=$!; pids+=("$sweep")
waited=0
until grep -qs 'SeedNet/' "$tmp"/t/logs/*.log 2>/dev/null || [ "$waited" -ge 600 ]; do sleep 0.1; waited=$((waited + 1)); done
kill -TERM "$sweep"
rc=0; wait "$sweep" || rc=$?
left=$(pgrep -fc "$tmp/normlab sweep" || true)
if [ "$rc" -eq 130 ] && [ "$left" -eq 0 ] && grep -q 'stopped (resumable)' "$tmp/t.out" &&
   ! grep -q ': finished' "$tmp/t.out"; then
  ok "SIGTERM to the sweep: its running points stopped at once, resumable (exit 130)"
else
  bad "SIGTERM to the sweep: exit $rc, $left processes left"; cat "$tmp/t.out"
fi

# A second sweep on the same directory while the first one continues: never the same point twice.
"$normlab" sweep grid.toml --out "$tmp/s" --data "$data" --jobs 2 >"$tmp/s2.out" 2>&1 &
a=$!; pids+=("$a")
"$normlab" sweep grid.toml --out "$tmp/s" --data "$data" --jobs 2 >"$tmp/s3.out" 2>&1 &
b=$!; pids+=("$b")
ra=0; wait "$a" || ra=$?
rb=0; wait "$b" || rb=$?
twice=0
for log in "$tmp"/s/logs/*.log; do
  # Each training attempt starts one line "resuming ..." or trains from scratch; two processes in
  # one point at once would show two "finished" lines.
  n=$(grep -c 'finished: test accuracy' "$log")
  [ "$n" -le 1 ] || twice=$((twice + 1))
done
# The sweeps exit 0 when everything they saw finished; one that found a point in use leaves it.
"$normlab" sweep grid.toml --out "$tmp/s" --data "$data" >"$tmp/s4.out" 2>&1; rc=$?
if [ "$twice" -eq 0 ] && [ "$ra" -eq 0 ] && [ "$rb" -eq 0 ] && [ "$rc" -eq 0 ] && grep -q '6 points, 0 to run' "$tmp/s4.out"; then
  ok "rerun after kill -9, two sweeps at once: every point finished once (exits $ra, $rb; then 0 to run)"
else
  bad "rerun: $twice points trained twice, last exit $rc"; tail -3 "$tmp/s2.out" "$tmp/s3.out" "$tmp/s4.out"
fi
same=0
for name in "${!ref[@]}"; do
  [ "$(hash_of "$tmp/s/$name")" = "${ref[$name]}" ] && same=$((same + 1)) || echo "    $name differs"
done
[ "$same" -eq 6 ] && ok "all 6 points have the weights of the point trained alone" ||
  bad "$same of 6 points match their lone run"
grep -q 'resuming' "$tmp"/s/logs/*.log && ok "the interrupted points resumed from their checkpoints" ||
  bad "no point resumed"

# --- The report ----------------------------------------------------------------------------------
if [ -f "$tmp/s/report.md" ] && [ -f "$tmp/s/accuracy-vs-norm-batch.png" ] &&
   [ "$(grep -c '^| SeedNet | GroupNorm | 32 | any |' "$tmp/s/report.md")" -eq 1 ] &&
   grep -q '^| SeedNet | BatchNorm | 32 | 4 | 0.01 | 2 |' "$tmp/s/report.md"; then
  ok "report.md: a row per setting over 2 seeds, GroupNorm once (any norm batch); the figure"
else
  bad "report.md"; cat "$tmp/s/report.md" 2>/dev/null | head -20
fi

# Read with another epoch count (a 3-epoch study under a 4-epoch file), the runs are listed
# as finished short of it and never averaged.
"$normlab" sweep grid.toml --set epochs=4 --out "$tmp/s" --report >/dev/null 2>&1
"$normlab" sweep grid.toml --set epochs=4 --out "$tmp/s" --list >"$tmp/list4" 2>&1
if grep -q '^| SeedNet | BatchNorm | 32 | 4 | 0.01 | 0 of 2 |' "$tmp/s/report.md" &&
   grep -q 'seed-batch-b32-nb4-lr0.01-s1: finished 3 of 4 epochs' "$tmp/s/report.md" &&
   grep -q '^0 seed-batch-b32-nb4-lr0.01-s1 finished 3 of 4 epochs$' "$tmp/list4"; then
  ok "runs of 3 epochs under a 4-epoch sweep: listed as finished 3 of 4 epochs, not averaged"
else
  bad "report or list with another epoch count"; head -20 "$tmp/s/report.md"; head -3 "$tmp/list4"
fi
"$normlab" sweep grid.toml --out "$tmp/s" --report >/dev/null 2>&1  # back to the file's report

# --- A run is its whole recipe: a point trained with other settings is never reported, resumed
# or extended under the sweep's; the sweep refuses, naming the point and the option ------------
expect_refusal "report under --set momentum=0.5" \
  'seed-batch-b32-nb4-lr0.01-s1|--momentum 0.5 \(the run has 0.9\)|5 more points|--skip-mismatched' "$tmp/s" -- \
  sweep grid.toml --set momentum=0.5 --out "$tmp/s" --data "$data" --report
expect_refusal "running under --set limit=2048 trains nothing" '--limit 2048 \(the run has 1024\)' "$tmp/s" -- \
  sweep grid.toml --set limit=2048 --out "$tmp/s" --data "$data" --jobs 2
# The thread count is not the recipe: any count trains the same bits.
"$normlab" sweep grid.toml --threads 2 --out "$tmp/s" --data "$data" --report >/dev/null 2>&1 &&
  ok "report under --threads 2: the runs trained on 1 thread are reused" ||
  bad "report under --threads 2 was refused"
expect_refusal "one point under --set schedule=cosine" '--schedule cosine \(the run has constant\)' "$tmp/s" -- \
  sweep grid.toml --set schedule=cosine --out "$tmp/s" --data "$data" --point 2
expect_refusal "report under --set no-flip=true" '--no-flip \(the run has augment.flip=true\)' "$tmp/s" -- \
  sweep grid.toml --set no-flip=true --out "$tmp/s" --data "$data" --report
"$normlab" sweep grid.toml --set holdout=5000 --out "$tmp/s" --data "$data" --list >"$tmp/list_h" 2>&1
[ "$(grep -c 'trained with other settings: --holdout 5000 (the run has 128)$' "$tmp/list_h")" -eq 6 ] &&
  ok "--list under --set holdout=5000: every point 'trained with other settings', none finished" ||
  { bad "--list with another holdout"; cat "$tmp/list_h"; }
cp -r "$tmp/s" "$tmp/s_skip"
rc=0; "$normlab" sweep grid.toml --set momentum=0.5 --out "$tmp/s_skip" --data "$data" --report --skip-mismatched \
  >/dev/null 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && grep -q '^| SeedNet | BatchNorm | 32 | 4 | 0.01 | 0 of 2 | n/a |' "$tmp/s_skip/report.md" &&
   [ "$(grep -c 'trained with other settings: --momentum 0.5 (the run has 0.9)' "$tmp/s_skip/report.md")" -ge 6 ]; then
  ok "--skip-mismatched: the report lists each such run as not averaged, averages none"
else
  bad "--skip-mismatched report (exit $rc)"; cat "$tmp/s_skip/report.md" | head -20
fi

# eval takes a run directory and reads the network and norm from its config.json.
nl eval --weights "$tmp/s/seed-group-b32-lr0.01-s1" --data "$data" --threads 1
[ "$rc" -eq 0 ] && grep -q '"norm": "group"' "$tmp/out" && grep -q '"test_accuracy"' "$tmp/out" &&
  ok "eval --weights RUN: GroupNorm weights evaluated as GroupNorm, from the run's config.json" ||
  { bad "eval --weights RUN (exit $rc)"; cat "$tmp/err"; }

# --reuse-from: a point takes a finished run of another sweep with its whole recipe, as it is;
# a run of other settings is not taken (the point trains).
rc=0; "$normlab" sweep grid.toml --grid seed=1 --grid norm=batch --grid norm-batch=4 --out "$tmp/r" \
  --data "$data" --reuse-from "$tmp" >"$tmp/r.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && grep -q "seed-batch-b32-nb4-lr0.01-s1: reused the finished run $tmp/[a-z_0-9]*/seed-batch-b32-nb4-lr0.01-s1 " "$tmp/r.out" &&
   ! grep -q 'epoch 1/3' "$tmp/r.out" &&
   [ "$(hash_of "$tmp/r/seed-batch-b32-nb4-lr0.01-s1")" = "$(hash_of "$tmp/s/seed-batch-b32-nb4-lr0.01-s1")" ] &&
   grep -q '^| SeedNet | BatchNorm | 32 | 4 | 0.01 | 1 |' "$tmp/r/report.md"; then
  ok "--reuse-from: the point took the finished run of the same recipe, nothing trained"
else
  bad "--reuse-from (exit $rc)"; tail -5 "$tmp/r.out"
fi
rc=0; "$normlab" sweep grid.toml --grid seed=1 --grid norm=batch --grid norm-batch=4 --set momentum=0.8 \
  --set epochs=1 --out "$tmp/r2" --data "$data" --reuse-from "$tmp/s" >"$tmp/r2.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] && ! grep -q 'reused' "$tmp/r2.out" && [ "$(jq -r .momentum "$tmp/r2/seed-batch-b32-nb4-lr0.01-s1/config.json")" = 0.8 ] &&
  ok "--reuse-from: a run of other settings is not taken; the point trained" ||
  { bad "--reuse-from with another momentum (exit $rc)"; tail -5 "$tmp/r2.out"; }

# compare follows the same rule: a run of another recipe in its directory is refused, not reused.
"$normlab" compare --norms batch,none --epochs 1 --limit 256 --batch-size 32 --threads 1 --out "$tmp/cmp" \
  --data "$data" >/dev/null 2>&1
[ -s "$tmp/cmp/comparison-diagnostics.png" ] && ok "compare overlays the norms' diagnostics (comparison-diagnostics.png)" ||
  bad "compare wrote no comparison-diagnostics.png"
expect_refusal "compare over a run of another momentum" 'cmp/batch-seed1|--momentum 0.5 \(the run has 0.9\)' "$tmp/cmp" -- \
  compare --norms batch --epochs 1 --limit 256 --batch-size 32 --threads 1 --out "$tmp/cmp" --data "$data" --momentum 0.5
expect_error "compare --norm" '--norm is not taken here|--norms' -- compare --norm batch --out "$tmp/cmp" --data "$data"

# Points that differ in another option (here label smoothing) are separate rows, never averaged together.
rc=0; "$normlab" sweep --set net=seed --set epochs=1 --set limit=256 --set holdout=64 --set batch-size=32 \
  --set threads=1 --grid label-smoothing=0,0.1 --grid seed=1,2 --out "$tmp/ls" --data "$data" \
  >"$tmp/ls.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && grep -q '^| net | norm | other | batch |' "$tmp/ls/report.md" &&
   grep -q '^| SeedNet | BatchNorm | label_smoothing=0 | 32 | 32 | 0.01 | 2 |' "$tmp/ls/report.md" &&
   grep -q '^| SeedNet | BatchNorm | label_smoothing=0.1 | 32 | 32 | 0.01 | 2 |' "$tmp/ls/report.md" &&
   grep -q 'report accuracy on the last 64 training images' "$tmp/ls/report.md"; then
  ok "a sweep over --label-smoothing: one row per value, each over its 2 seeds; holdout accuracy named"
else
  bad "sweep over --label-smoothing (exit $rc)"; cat "$tmp/ls/report.md" 2>/dev/null | head; tail -3 "$tmp/ls.out"
fi

# A sweep over networks: each keeps its own recipe, stated once per network, not on every row.
rc=0; "$normlab" sweep --grid net=seed,s8 --set epochs=1 --set limit=256 --set holdout=64 --set batch-size=32 \
  --set threads=1 --out "$tmp/nets" --data "$data" >"$tmp/nets.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && grep -q "^Settings of each network's own recipe:" "$tmp/nets/report.md" &&
   grep -qE '^- SeedNet: .*label_smoothing=0, .*schedule=constant' "$tmp/nets/report.md" &&
   grep -qE '^- S8Net: .*label_smoothing=0.1, .*schedule=one-cycle' "$tmp/nets/report.md" &&
   grep -q '^| net | norm | batch |' "$tmp/nets/report.md" &&
   grep -q '^| SeedNet | BatchNorm | 32 | 32 | 0.01 | 1 |' "$tmp/nets/report.md" &&
   grep -q '^| S8Net | BatchNorm | 32 | 32 | 0.1 | 1 |' "$tmp/nets/report.md"; then
  ok "a sweep over networks: each network's own recipe stated once, no 'other' column"
else
  bad "sweep over networks (exit $rc)"; head -14 "$tmp/nets/report.md" 2>/dev/null; tail -3 "$tmp/nets.out"
fi

# A diverged point is listed, never averaged; the sweep exits 3.
rc=0; "$normlab" sweep --set net=seed --set epochs=1 --set limit=512 --set holdout=64 --set batch-size=4 \
  --set lr=10 --set momentum=0.99 --set threads=1 --grid seed=1,2 --out "$tmp/div" --data "$data" \
  >"$tmp/div.out" 2>&1 || rc=$?
if [ "$rc" -eq 3 ] && grep -q 'Not averaged' "$tmp/div/report.md" && grep -q 'diverged at epoch 1' "$tmp/div/report.md" &&
   grep -q '| SeedNet | BatchNorm | 4 | 4 | 10 | 0 of 2 | n/a |' "$tmp/div/report.md"; then
  ok "a sweep of diverging points: exit 3, each listed as diverged, nothing averaged"
else
  bad "diverging sweep (exit $rc)"; cat "$tmp/div/report.md" 2>/dev/null | head; tail -3 "$tmp/div.out"
fi

# --- A point whose process fails is listed and reported as failed, with its error and log,
# not as "not started"; a later successful run clears it --------------------------------------
# Labels out of range: sizes are right, so only loading the records finds it (exit 2 in each point).
bad_data="$tmp/bad-labels"
mkdir "$bad_data"
for f in "$data"/*; do ln -s "$f" "$bad_data/"; done
rm "$bad_data/data_batch_1.bin"
cp "$data/data_batch_1.bin" "$bad_data/"
printf '\310' | dd of="$bad_data/data_batch_1.bin" bs=1 conv=notrunc 2>/dev/null  # label 200
small=(--set net=seed --set epochs=1 --set limit=256 --set holdout=64 --set batch-size=32 --set threads=1
       --grid seed=1,2)
rc=0; "$normlab" sweep "${small[@]}" --out "$tmp/f" --data "$bad_data" >"$tmp/f.out" 2>&1 || rc=$?
"$normlab" sweep "${small[@]}" --out "$tmp/f" --list >"$tmp/f.list" 2>&1
failed='failed \(exit 2: [^;]*bad-labels/data_batch_1.bin: record 0 has label 200, expected 0-9; see [^ ]*/f/logs/'
if [ "$rc" -eq 2 ] && [ "$(grep -cE "^[01] seed-batch-b32-nb32-lr0.01-s[12] $failed" "$tmp/f.list")" -eq 2 ] &&
   grep -qE "^0 seed-batch-b32-nb32-lr0.01-s1 ${failed}seed-batch-b32-nb32-lr0.01-s1.log\)$" "$tmp/f.list" &&
   [ "$(grep -cE "^- seed-batch-b32-nb32-lr0.01-s[12]: $failed" "$tmp/f/report.md")" -eq 2 ] &&
   ! grep -q 'not started' "$tmp/f.list" "$tmp/f/report.md"; then
  ok "points that fail on a corrupt label: exit 2, listed and reported as 'failed (exit 2: <error>; see <log>)'"
else
  bad "failing points (exit $rc)"; cat "$tmp/f.list"; grep -A3 'Not averaged' "$tmp/f/report.md"; tail -3 "$tmp/f.out"
fi
# One point run alone (a Slurm task's way) whose data directory has gone since the plan.
rc=0; "$normlab" sweep "${small[@]}" --out "$tmp/f" --data "$tmp/gone" --point 1 >/dev/null 2>"$tmp/f.err" || rc=$?
"$normlab" sweep "${small[@]}" --out "$tmp/f" --list >"$tmp/f.list" 2>&1
if [ "$rc" -eq 2 ] && grep -qE '^1 seed-batch-b32-nb32-lr0.01-s2 failed \(exit 2: [^ ]*/gone: no such directory' "$tmp/f.list"; then
  ok "--point without its data: exit 2, listed as failed with its error"
else
  bad "--point without its data (exit $rc)"; cat "$tmp/f.err" "$tmp/f.list"
fi
# A point killed by a signal (the OOM killer's SIGKILL) says so, where its log is.
"$normlab" sweep "${small[@]}" --set epochs=3 --set limit=1024 --grid seed=1 --out "$tmp/k" --data "$data" \
  >"$tmp/k.out" 2>&1 &
sweep=$!; pids+=("$sweep")
waited=0
until grep -qs 'SeedNet/' "$tmp"/k/logs/*.log || [ "$waited" -ge 600 ]; do sleep 0.1; waited=$((waited + 1)); done
pkill -9 -f "$tmp/normlab sweep .*--out $tmp/k .*--point 0"
rc=0; wait "$sweep" || rc=$?
"$normlab" sweep "${small[@]}" --set epochs=3 --set limit=1024 --grid seed=1 --out "$tmp/k" --list >"$tmp/k.list" 2>&1
if [ "$rc" -eq 2 ] &&
   grep -qE '^0 seed-batch-b32-nb32-lr0.01-s1 failed \(exit 137: killed by signal 9 \(Killed\); see [^ ]*/k/logs/seed-batch-b32-nb32-lr0.01-s1.log\)$' "$tmp/k.list"; then
  ok "a point killed by SIGKILL: exit 2, listed as 'failed (exit 137: killed by signal 9 ...; see <log>)'"
else
  bad "a point killed by SIGKILL (exit $rc)"; cat "$tmp/k.list"; tail -3 "$tmp/k.out"
fi
rc=0; "$normlab" sweep "${small[@]}" --out "$tmp/f" --data "$data" >"$tmp/f.out" 2>&1 || rc=$?
"$normlab" sweep "${small[@]}" --out "$tmp/f" --list >"$tmp/f.list" 2>&1
if [ "$rc" -eq 0 ] && [ "$(grep -c ' finished$' "$tmp/f.list")" -eq 2 ] && ! grep -q failed "$tmp/f/report.md" &&
   [ -z "$(ls -A "$tmp/f/failed" 2>/dev/null)" ]; then
  ok "rerun with good data: both points finished, no failure left in the list, report or failed/"
else
  bad "rerun after the failures (exit $rc)"; cat "$tmp/f.list"; ls "$tmp/f/failed"
fi

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
