// The report of a sweep: every setting over its seeds, read from the run directories as they
// are, as a table (report.md, report.csv) and figures (src/report/sweep_figures.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "normlab/io/atomic_file.hpp"
#include "normlab/train/models.hpp"
#include "normlab/train/provenance.hpp"
#include "normlab/report/comparison_table.hpp"
#include "normlab/report/diagnostics_files.hpp"
#include "normlab/report/metrics_files.hpp"
#include "normlab/report/sweep_report.hpp"
#include "normlab/train/run_directory.hpp"
#include "sweep_commands.hpp"

namespace normlab::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<double> last_epochs_accuracy(const fs::path& dir) {
  std::vector<double> values;
  for (const auto& m : read_metrics_json(dir / "metrics.json")) values.push_back(m.test_accuracy);
  return values;
}

// The options the table has columns for, and the seed, which it averages over.
const std::set<std::string> kShownInColumns = {"/net", "/norm", "/batch", "/norm_batch", "/learning_rate", "/seed"};

// Each point's options as flat keys ("/augment/flip"), without where it lives and how it was
// executed (any thread count gives the same runs; the report's own invocation may name another).
std::vector<json> flat_configs(const SweepPlan& plan) {
  std::vector<json> flat;
  for (const SweepPoint& p : plan.points) {
    json f = json(p.config).flatten();
    f.erase("/out_dir");
    f.erase("/data_dir");
    for (std::string_view key : kExecutionSettings) f.erase(std::string(1, '/').append(key));
    flat.push_back(f);
  }
  return flat;
}

std::string setting_text(const std::string& key, const json& value) {
  std::string name = key.substr(1);
  std::replace(name.begin(), name.end(), '/', '.');
  return name + "=" + value_text(value);
}

// The options that differ between points but not between points of one network: each net's
// own recipe (S8Net's label smoothing, schedule, ...) in a sweep over networks. The report
// states them once per network instead of on every row; the net column splits the cells.
std::set<std::string> per_network_keys(const SweepPlan& plan, const std::vector<json>& flat) {
  std::set<std::string> keys;
  for (const auto& [key, value] : flat.front().items()) {
    bool varies = false, within_a_net = false;
    for (std::size_t i = 0; i < flat.size(); ++i) {
      if (flat[i].value(key, json()) != value) varies = true;
      for (std::size_t j = 0; j < i; ++j)
        if (plan.points[j].config.net == plan.points[i].config.net &&
            flat[j].value(key, json()) != flat[i].value(key, json()))
          within_a_net = true;
    }
    if (varies && !within_a_net && !kShownInColumns.count(key)) keys.insert(key);
  }
  return keys;
}

// The options the points differ in besides those the report has columns for (and the seed,
// which it averages over, and each network's own recipe): "conv=winograd". They split cells, so
// runs with different settings are never averaged together.
std::vector<std::string> other_settings(const SweepPlan& plan) {
  const std::vector<json> flat = flat_configs(plan);
  const std::set<std::string> per_network = per_network_keys(plan, flat);
  std::set<std::string> varying;
  for (const json& f : flat)
    for (const auto& [key, value] : f.items())
      if (!kShownInColumns.count(key) && !per_network.count(key) && value != flat.front().value(key, json()))
        varying.insert(key);
  std::vector<std::string> others;
  for (const json& f : flat) {
    std::string text;
    for (const std::string& key : varying) {
      const json& v = f.at(key);
      text += fmt::format("{}{}={}", text.empty() ? "" : " ", key.substr(1), value_text(v));
    }
    others.push_back(text);
  }
  return others;
}

// What the report says of the sweep as a whole.
struct ReportFacts {
  std::string shared;   // "augment.flip=true, batch=128, ..." (config keys, as in sweep files)
  std::string per_network;  // "- SeedNet: label_smoothing=0, ...\n- S8Net: ..." (per_network_keys)
  std::string commits;  // which commit wrote the report and which trained the runs
  int epochs = 0;       // the most any point asks
  std::size_t seeds = 0;
};

std::string seeds_text(std::size_t n) { return n == 1 ? "1 seed" : std::to_string(n) + " seeds"; }

ReportFacts report_facts(const SweepPlan& plan, const std::vector<RunCheck>& checks) {
  ReportFacts facts;
  const std::vector<json> flat = flat_configs(plan);
  std::set<std::uint64_t> seeds;
  for (const SweepPoint& p : plan.points) {
    seeds.insert(p.config.seed);
    facts.epochs = std::max(facts.epochs, p.config.epochs);
  }
  facts.seeds = seeds.size();
  for (const auto& [key, value] : flat.front().items()) {
    const bool everywhere = std::all_of(flat.begin(), flat.end(), [&](const json& f) {
      return f.contains(key) && f.at(key) == value;
    });
    if (everywhere) facts.shared += (facts.shared.empty() ? "" : ", ") + setting_text(key, value);
  }
  const std::set<std::string> per_network = per_network_keys(plan, flat);
  std::set<std::string> nets_done;
  for (std::size_t i = 0; i < plan.points.size() && !per_network.empty(); ++i) {
    const std::string& net = plan.points[i].config.net;
    if (!nets_done.insert(net).second) continue;
    std::string text;
    for (const std::string& key : per_network)
      text += (text.empty() ? "" : ", ") + setting_text(key, flat[i].value(key, json()));
    facts.per_network += fmt::format("- {}: {}\n", network_display_name(net), text);
  }
  // The runs' commits from their config.json (where they started; a resumed run may add more).
  std::set<std::string> commits;
  for (std::size_t i = 0; i < plan.points.size(); ++i) {
    if (checks[i].action != RunAction::finished && checks[i].action != RunAction::diverged) continue;
    std::ifstream in(fs::path(plan.points[i].config.out_dir) / "config.json");
    const json saved = json::parse(in, nullptr, false);
    if (saved.is_object() && saved.contains("provenance"))
      commits.insert(saved["provenance"].value("commit", "?"));
  }
  std::string trained;
  for (const auto& c : commits) trained += (trained.empty() ? "" : ", ") + c;
  facts.commits = fmt::format("Report by normlab commit {}; the finished runs were started by commit {}.",
                              provenance(1).value("commit", "?"), trained.empty() ? "(none yet)" : trained);
  return facts;
}

// "groups=8 init=he" -> "init=he".
std::string without_groups(const std::string& other) {
  std::string kept, word;
  std::istringstream words(other);
  while (words >> word)
    if (!word.starts_with("groups=")) kept += (kept.empty() ? "" : " ") + word;
  return kept;
}

// Channels per group in the network's widest normalised layers, for the norms that split the
// channels into groups (0 for the others).
int channels_per_group(const TrainConfig& c) {
  const std::vector<int> channels = normalised_channels(c.net);
  const int widest = channels.empty() ? 0 : *std::max_element(channels.begin(), channels.end());
  if (c.norm == "group") return widest / c.groups;
  if (c.norm == "layer") return widest;
  if (c.norm == "instance") return 1;
  return 0;
}

}  // namespace

void write_report(const SweepPlan& plan, bool skip_mismatched) {
  const std::vector<RunCheck> checks = check_sweep_points(plan, skip_mismatched);
  std::vector<SweepCell> cells;
  std::vector<SettingDiagnostics> diagnostics;  // one per cell, its finished runs' samples
  std::map<std::string, std::size_t> cell_of;
  const std::vector<std::string> others = other_settings(plan);
  for (std::size_t i = 0; i < plan.points.size(); ++i) {
    const SweepPoint& p = plan.points[i];
    const TrainConfig& c = p.config;
    // The group count is GroupNorm's alone: LayerNorm and instance norm rows do not show it.
    const std::string other = norm_takes_groups(c.norm) ? others[i] : without_groups(others[i]);
    const fs::path dir = c.out_dir;
    const RunCheck& check = checks[i];
    json summary;
    if (check.action == RunAction::finished || check.action == RunAction::diverged) {
      std::ifstream in(dir / "summary.json");
      summary = json::parse(in, nullptr, false);
    }
    // A norm that ignores the norm batch is one cell ("any"), drawn at every norm batch.
    const bool per_norm_batch = norm_uses_batch_statistics(c.norm);
    for (int k : per_norm_batch ? p.norm_batches : std::vector<int>{0}) {
      const std::string key =
          fmt::format("{}|{}|{}|{}|{}|{}", c.net, c.norm, c.batch, k, c.learning_rate, other);
      if (!cell_of.count(key)) {
        cell_of[key] = cells.size();
        cells.push_back({network_display_name(c.net), norm_display_name(c.norm), other, c.batch, k,
                         {}, c.learning_rate, channels_per_group(c), norm_takes_groups(c.norm),
                         without_groups(other), {}, {}, {}, {}});
        diagnostics.emplace_back();
      }
      SweepCell& cell = cells[cell_of[key]];
      for (int plotted : per_norm_batch ? std::vector<int>{k} : p.norm_batches)
        if (std::find(cell.plotted_norm_batches.begin(), cell.plotted_norm_batches.end(), plotted) ==
            cell.plotted_norm_batches.end())
          cell.plotted_norm_batches.push_back(plotted);
      if (check.action == RunAction::finished) {
        cell.final_accuracy.push_back(summary.value("final_test_accuracy", 0.0));
        cell.seconds_per_epoch.push_back(summary.value("seconds_per_epoch", 0.0));
        const auto acc = last_epochs_accuracy(dir);
        const std::size_t n = std::min<std::size_t>(5, acc.size());
        double sum = 0;
        for (std::size_t e = acc.size() - n; e < acc.size(); ++e) sum += acc[e];
        cell.last5_accuracy.push_back(n ? sum / double(n) : 0.0);
        if (fs::exists(dir / "diagnostics.csv"))  // runs made before the diagnostics have none
          diagnostics[cell_of[key]].runs.push_back(read_diagnostics_csv(dir / "diagnostics.csv"));
      } else if (check.action == RunAction::diverged) {
        cell.not_averaged.push_back(fmt::format(
            "{}: diverged at epoch {}, step {} ({})", p.name,
            summary.contains("diverged_at") ? summary["diverged_at"].value("epoch", 0) : 0,
            summary.contains("diverged_at") ? summary["diverged_at"].value("step", 0) : 0,
            summary.is_object() ? summary.value("what", "?") : "?"));
      } else {
        cell.not_averaged.push_back(p.name + ": " +
                                    run_state_text(check, c.epochs, read_point_failure(plan, p.name)));
      }
    }
  }

  const ReportFacts facts = report_facts(plan, checks);
  std::string md = fmt::format("# Sweep {}\n\n{} runs ({} settings x {}); final test accuracy in %, "
                               "mean ± std over the finished seeds.\n\n",
                               plan.name, plan.points.size(), cells.size(), seeds_text(facts.seeds));
  md += "Settings every run shares: " + facts.shared + ".\n\n";
  if (!facts.per_network.empty()) md += "Settings of each network's own recipe:\n\n" + facts.per_network + "\n";
  md += facts.commits + "\n\n";
  // With --holdout the accuracy a run reports is the holdout's: say so, it is not the test set's.
  for (const SweepPoint& p : plan.points)
    if (p.config.holdout > 0) {
      md += fmt::format("Runs with holdout={} report accuracy on the last {} training images "
                        "(the holdout), not on the test set.\n\n",
                        p.config.holdout, p.config.holdout);
      break;
    }
  md += sweep_table_markdown(cells);
  md += "\n(The same table as CSV: report.csv.)\n";
  write_file_atomically(plan.dir / "report.csv", sweep_table_csv(cells));

  const std::string settings_words = fmt::format("{} epoch{}, {}", facts.epochs, facts.epochs == 1 ? "" : "s",
                                                 seeds_text(facts.seeds));
  md += draw_sweep_figures(plan.dir, plan.name, settings_words, cells, diagnostics);
  write_file_atomically(plan.dir / "report.md", md);
  std::printf("%s", md.c_str());
  std::fprintf(stderr, "normlab: report written to %s\n", (plan.dir / "report.md").c_str());
}

}  // namespace normlab::cli
