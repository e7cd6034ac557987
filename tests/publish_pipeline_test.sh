#!/usr/bin/env bash
# Results as code, end to end on a tiny study (generated data, no real CIFAR-10): a sweep's runs
# published by scripts/publish-study into docs/results/STUDY/ and the README's table between its
# markers; scripts/readme-tables --check passes, and fails once the table is edited by hand;
# tests/published_results_test.sh replays the first epoch exactly, fails naming the study and
# its commit once the published metrics differ, and passes again when the README marks the
# study as made with an older engine.
# Usage: publish_pipeline_test.sh SOURCE_ROOT NORMLAB_BINARY
set -uo pipefail

source_root="$(realpath "$1")"
normlab="$(realpath "$2")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cli_test_lib.sh
source "$here/cli_test_lib.sh"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/normlab_publish.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
unset NORMLAB_DATA
python3 "$here/make_fake_cifar10.py" "$tmp/data" >/dev/null
root="$tmp/root"
mkdir -p "$root/sweeps" "$root/docs/results"
cat >"$root/sweeps/tiny.toml" <<'TOML'
[train]
net = "seed"
epochs = 1
limit = 256
batch-size = 32
threads = 1
[grid]
seed = [1, 2]
norm = ["batch", "group"]
TOML
printf '# A project\n\n<!-- study: tiny -->\n<!-- /study: tiny -->\n\nText after.\n' >"$root/README.md"
publish() { python3 "$source_root/scripts/publish-study" tiny --root "$root" --normlab "$normlab" "$@"; }
tables() { python3 "$source_root/scripts/readme-tables" --root "$root" "$@"; }

rc=0; publish >"$tmp/p0" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q 'no such directory' "$tmp/p0" && [ ! -e "$root/docs/results/tiny" ] &&
  ok "publish-study before the sweep ran: refused, nothing written" || { bad "publish without runs (exit $rc)"; cat "$tmp/p0"; }

"$normlab" sweep "$root/sweeps/tiny.toml" --out "$root/runs/sweeps/tiny" --data "$tmp/data" --jobs 2 >"$tmp/sweep" 2>&1 ||
  { bad "the tiny sweep"; tail -5 "$tmp/sweep"; }
rc=0; publish >"$tmp/p1" 2>&1 || rc=$?
study="$root/docs/results/tiny"
if [ "$rc" -eq 0 ] && [ -f "$study/report.csv" ] && [ -f "$study/study.json" ] &&
   [ "$(ls "$study"/*-config.json | wc -l)" -eq 4 ] && [ "$(ls "$study"/*-metrics.csv | wc -l)" -eq 4 ] &&
   grep -q '^| SeedNet | BatchNorm | 32 | 32 | 0.01 | 2 | \*\*[0-9.]* ± [0-9.]*\*\* |' "$root/README.md" &&
   grep -q '^| SeedNet | GroupNorm | 32 | any | 0.01 | 2 |' "$root/README.md" &&
   grep -q '^Text after.$' "$root/README.md"; then
  ok "publish-study: report, figures, each run's config/metrics/summary, study.json, the README table"
else
  bad "publish-study (exit $rc)"; cat "$tmp/p1"; cat "$root/README.md"
fi

shares="$(grep '^Settings every run shares:' "$study/report.md")"
[[ "$shares" == *"net=seed"* && "$shares" == *"epochs=1"* && "$shares" != *"threads="* && "$shares" != *"unfused="* ]] &&
  ok "the report's shared settings are the recipe's, not how the runs were executed (threads)" ||
  bad "the report's shared settings: $shares"

# A published study is a source of finished runs: the same sweep from nothing, reusing them,
# trains nothing and reports the same table; a point of another recipe is not taken.
rc=0; "$normlab" sweep "$root/sweeps/tiny.toml" --out "$tmp/again" --data "$tmp/data" --jobs 2 \
  --reuse-from "$root/docs/results" >"$tmp/again.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && [ "$(grep -c 'reused the finished run .*docs/results/tiny/seed-' "$tmp/again.out")" -eq 4 ] &&
   ! grep -q 'epoch 1/1' "$tmp/again.out" && [ ! -e "$tmp/again/seed-group-b32-lr0.01-s2/checkpoint.bin" ] &&
   cmp -s <(grep '^| SeedNet' "$tmp/again/report.md") <(grep '^| SeedNet' "$study/report.md"); then
  ok "sweep --reuse-from a published study: its 4 runs taken, nothing trained, the same report"
else
  bad "sweep --reuse-from the published study (exit $rc)"; tail -5 "$tmp/again.out"
fi
rc=0; "$normlab" sweep "$root/sweeps/tiny.toml" --grid seed=1 --grid norm=group --set momentum=0.8 --out "$tmp/other" \
  --data "$tmp/data" --reuse-from "$study" >"$tmp/other.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] && ! grep -q 'reused' "$tmp/other.out" && [ -f "$tmp/other/seed-group-b32-lr0.01-s1/checkpoint.bin" ] &&
  [ -z "$(ls -A "$tmp/other" | grep '^\.reuse-')" ] &&
  ok "sweep --reuse-from a published study: a point of another momentum trains, no staging left behind" ||
  { bad "sweep --reuse-from with another momentum (exit $rc)"; tail -5 "$tmp/other.out"; }

rc=0; tables --check >"$tmp/c1" 2>&1 || rc=$?
[ "$rc" -eq 0 ] && ok "readme-tables --check: the README's table is its report's" || { bad "readme-tables --check (exit $rc)"; cat "$tmp/c1"; }
sed -i 's/^| SeedNet | GroupNorm | 32 | any | 0.01 | 2 | \*\*[0-9.]*/| SeedNet | GroupNorm | 32 | any | 0.01 | 2 | **99.99/' "$root/README.md"
rc=0; tables --check >"$tmp/c2" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "tiny: the README's table is not its report's" "$tmp/c2" &&
  ok "readme-tables --check fails, naming the study, once the table is edited by hand" ||
  { bad "readme-tables --check after an edit (exit $rc)"; cat "$tmp/c2"; }
tables >/dev/null 2>&1
grep -q '99.99' "$root/README.md" && bad "readme-tables did not rewrite the table" ||
  ok "readme-tables rewrites the table from the report"

staleness() { bash "$here/published_results_test.sh" "$root" "$normlab" "$tmp/data" >"$tmp/s" 2>&1; }
rc=0; staleness || rc=$?
[ "$rc" -eq 0 ] && grep -q 'replays the first epoch of seed-batch-b32-nb32-lr0.01-s1 exactly' "$tmp/s" &&
  ok "the staleness test replays the study's first epoch exactly" || { bad "staleness on a fresh study (exit $rc)"; cat "$tmp/s"; }

first="$study/seed-batch-b32-nb32-lr0.01-s1-metrics.csv"
commit="$(jq -r '.commits[0]' "$study/study.json")"
sed -i '2s/^\(1,[^,]*,[^,]*\),/\1,1/' "$first"  # another train accuracy: as an older engine's
rc=0; staleness || rc=$?
[ "$rc" -ne 0 ] && grep -q "FAIL: tiny: .*made with commit $commit" "$tmp/s" &&
  ok "published metrics that today's binary does not reproduce: fails naming the study and commit $commit" ||
  { bad "staleness with other published metrics (exit $rc)"; cat "$tmp/s"; }
echo "The tiny table: made with an older engine (commit $commit)." >>"$root/README.md"
rc=0; staleness || rc=$?
[ "$rc" -eq 0 ] && grep -q 'tiny: stale' "$tmp/s" &&
  ok "... and passes once the README marks it as made with an older engine" || { bad "marked stale (exit $rc)"; cat "$tmp/s"; }

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
