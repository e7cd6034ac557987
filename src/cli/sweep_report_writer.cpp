// The report of a sweep: a table of every setting over its seeds and figures of accuracy
// against the normalisation batch and the SGD batch, from the run directories as they are.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
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
#include "normlab/report/confusion.hpp"
#include "normlab/report/curves.hpp"
#include "normlab/report/diagnostics_files.hpp"
#include "normlab/report/gallery.hpp"
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

// The options the points differ in besides those the report has columns for (and the seed,
// which it averages over, and where each run lives): "conv=winograd". They split cells, so
// runs with different settings are never averaged together.
std::vector<std::string> other_settings(const SweepPlan& plan) {
  static const std::set<std::string> shown = {"/net", "/norm", "/batch", "/norm_batch",
                                              "/learning_rate", "/seed",
                                              "/out_dir", "/data_dir"};
  std::vector<json> flat;
  for (const SweepPoint& p : plan.points) flat.push_back(json(p.config).flatten());
  std::set<std::string> varying;
  for (const json& f : flat)
    for (const auto& [key, value] : f.items())
      if (!shown.count(key) && value != flat.front().value(key, json())) varying.insert(key);
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
  std::string commits;  // which commit wrote the report and which trained the runs
  int epochs = 0;       // the most any point asks
  std::size_t seeds = 0;
};

std::string seeds_text(std::size_t n) { return n == 1 ? "1 seed" : std::to_string(n) + " seeds"; }

ReportFacts report_facts(const SweepPlan& plan, const std::vector<RunCheck>& checks) {
  ReportFacts facts;
  std::vector<json> flat;
  std::set<std::uint64_t> seeds;
  for (const SweepPoint& p : plan.points) {
    json f = json(p.config).flatten();
    f.erase("/out_dir");
    f.erase("/data_dir");
    flat.push_back(f);
    seeds.insert(p.config.seed);
    facts.epochs = std::max(facts.epochs, p.config.epochs);
  }
  facts.seeds = seeds.size();
  for (const auto& [key, value] : flat.front().items()) {
    const bool everywhere = std::all_of(flat.begin(), flat.end(), [&](const json& f) {
      return f.contains(key) && f.at(key) == value;
    });
    if (everywhere)
      facts.shared += (facts.shared.empty() ? "" : ", ") + key.substr(1) + "=" + value_text(value);
  }
  for (char& ch : facts.shared)
    if (ch == '/') ch = '.';
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
    const std::string& other = others[i];
    const TrainConfig& c = p.config;
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
                         {}, c.learning_rate, channels_per_group(c), without_groups(other), {}, {}, {}, {}});
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

  // Accuracy against the normalisation batch: one figure per (net, batch, lr), one line per norm;
  // against the SGD batch where the norm batch is the batch; else one point per setting.
  const std::string settings_words = fmt::format("{} epoch{}, {}", facts.epochs, facts.epochs == 1 ? "" : "s",
                                                 seeds_text(facts.seeds));
  std::map<std::string, std::map<std::string, ErrorBarSeries>> by_norm_batch;
  std::map<std::string, std::map<std::string, ErrorBarSeries>> by_batch;
  std::map<std::string, std::map<std::string, ErrorBarSeries>> by_channels_per_group;
  std::map<std::string, std::set<int>> group_counts_drawn;  // GroupNorm's, per figure
  std::vector<ErrorBarSeries> by_setting;
  auto add = [](ErrorBarSeries& s, const std::string& label, double x, const MeanStd& m) {
    s.label = label;
    s.x.push_back(x);
    s.mean.push_back(m.mean);
    s.std.push_back(m.std);
  };
  for (const SweepCell& cell : cells) {
    if (cell.final_accuracy.empty()) continue;
    const MeanStd m = mean_std(cell.final_accuracy);
    const std::string label = cell.other.empty() ? cell.norm : cell.norm + " " + cell.other;
    const std::string group = fmt::format("{}, batch {}, lr {}", cell.net, cell.batch, float(cell.learning_rate));
    for (int k : cell.plotted_norm_batches) add(by_norm_batch[group][label], label, std::log2(double(k)), m);
    if (cell.norm_batch == cell.batch || cell.norm_batch == 0)
      add(by_batch[cell.net][label], label, std::log2(double(cell.batch)), m);
    if (cell.channels_per_group > 0) {  // GroupNorm's family: one line from instance to layer
      const std::string family = cell.other_but_groups.empty() ? "group count" : cell.other_but_groups;
      add(by_channels_per_group[group][family], family, std::log2(double(cell.channels_per_group)), m);
      if (cell.norm == norm_display_name("group")) group_counts_drawn[group].insert(cell.channels_per_group);
    }
    ErrorBarSeries& one = by_setting.emplace_back();
    add(one, fmt::format("{} {}, b{} lr{}", cell.net, label, cell.batch, float(cell.learning_rate)),
        double(by_setting.size()), m);
  }
  bool drawn = false;
  auto figures = [&](const auto& groups, const std::string& stem, const std::string& x_label) {
    for (const auto& [title, series_by_norm] : groups) {
      std::vector<ErrorBarSeries> series;
      std::size_t points = 0;
      for (const auto& [norm, s] : series_by_norm) {
        series.push_back(s);
        points = std::max(points, s.x.size());
      }
      if (points < 2) continue;  // one x value is no curve
      std::string file = groups.size() == 1 ? stem + ".png" : stem + "-" + title + ".png";
      for (char& ch : file)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '-') ch = '_';
      plot_error_bars(plan.dir / file, series,
                      fmt::format("{}, {}: final test accuracy", title, settings_words), x_label,
                      "test accuracy (%), mean ± std over seeds", true);
      md += fmt::format("\n![{}]({})\n", title, file);
      drawn = true;
    }
  };
  figures(by_norm_batch, "accuracy-vs-norm-batch", "images per normalisation batch");
  figures(by_batch, "accuracy-vs-batch", "SGD batch size (norm batch = batch)");
  // Against the group count only where the sweep varies it (a norm family with GroupNorm at
  // one G is read from the table).
  std::erase_if(by_channels_per_group, [&](const auto& g) { return group_counts_drawn[g.first].size() < 2; });
  for (auto& [group, lines] : by_channels_per_group)
    for (auto& [family, s] : lines) {  // left to right: 1 channel per group (instance) first
      std::vector<std::size_t> order(s.x.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return s.x[a] < s.x[b]; });
      ErrorBarSeries sorted{s.label, {}, {}, {}};
      for (std::size_t i : order) {
        sorted.x.push_back(s.x[i]);
        sorted.mean.push_back(s.mean[i]);
        sorted.std.push_back(s.std[i]);
      }
      s = sorted;
    }
  figures(by_channels_per_group, "accuracy-vs-channels-per-group",
          "channels per group in the widest normalised layers (1: InstanceNorm, all: LayerNorm)");
  if (!drawn && !by_setting.empty()) {  // e.g. a grid over norms alone
    plot_error_bars(plan.dir / "accuracy-by-setting.png", by_setting,
                    fmt::format("{}: final test accuracy, {}", plan.name, settings_words),
                    "setting (see the legend)", "test accuracy (%), mean ± std over seeds", false);
    md += "\n![accuracy by setting](accuracy-by-setting.png)\n";
  }
  // The norms overlaid layer by layer, from the runs' diagnostics, where two settings have them.
  std::vector<SettingDiagnostics> with_samples;
  auto varies = [&](auto field) {
    return std::any_of(cells.begin(), cells.end(), [&](const SweepCell& c) { return field(c) != field(cells.front()); });
  };
  const bool nets_vary = varies([](const SweepCell& c) { return c.net; });
  const bool batches_vary = varies([](const SweepCell& c) { return c.batch; });
  const bool lrs_vary = varies([](const SweepCell& c) { return c.learning_rate; });
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (diagnostics[i].runs.empty()) continue;
    const SweepCell& c = cells[i];
    std::string label = (nets_vary ? c.net + " " : "") + c.norm;
    if (c.norm_batch > 0 && c.norm_batch != c.batch) label += fmt::format(" K={}", c.norm_batch);
    if (!c.other.empty()) label += " " + c.other;
    if (batches_vary) label += fmt::format(" b{}", c.batch);
    if (lrs_vary) label += fmt::format(" lr{}", float(c.learning_rate));
    diagnostics[i].label = label;
    with_samples.push_back(std::move(diagnostics[i]));
  }
  if (with_samples.size() >= 2) {
    plot_diagnostics_by_setting(plan.dir / "diagnostics-by-setting.png", with_samples,
                                fmt::format("{}: diagnostics by setting, {}", plan.name, settings_words));
    md += "\n![diagnostics by setting](diagnostics-by-setting.png)\n";
  }
  write_file_atomically(plan.dir / "report.md", md);
  std::printf("%s", md.c_str());
  std::fprintf(stderr, "normlab: report written to %s\n", (plan.dir / "report.md").c_str());
}

}  // namespace normlab::cli
