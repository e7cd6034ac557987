// The figures of a sweep's report (sweep_report.hpp): accuracy against the normalisation batch,
// the SGD batch or the group count where the grid varies one, else by setting; and the
// settings' diagnostics overlaid.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iterator>
#include <map>
#include <set>

#include "normlab/report/comparison_table.hpp"
#include "normlab/report/landscape_table.hpp"
#include "normlab/report/sweep_report.hpp"

namespace normlab {

std::string draw_sweep_figures(const std::filesystem::path& dir, const std::string& sweep_name,
                               const std::string& settings_words, std::span<const SweepCell> cells,
                               std::vector<SettingDiagnostics> diagnostics) {
  std::string md;
  // A setting's name in the by-setting figure: the network where the sweep has several, the
  // batch and learning rate where they differ between settings of one network.
  auto differs_within_net = [&](auto field) {
    return std::any_of(cells.begin(), cells.end(), [&](const SweepCell& a) {
      return std::any_of(cells.begin(), cells.end(),
                         [&](const SweepCell& b) { return a.net == b.net && field(a) != field(b); });
    });
  };
  auto varies = [&](auto field) {
    return std::any_of(cells.begin(), cells.end(), [&](const SweepCell& c) { return field(c) != field(cells.front()); });
  };
  const bool several_nets = varies([](const SweepCell& c) { return c.net; });
  const bool batch_differs = differs_within_net([](const SweepCell& c) { return c.batch; });
  const bool lr_differs = differs_within_net([](const SweepCell& c) { return c.learning_rate; });
  auto setting_label = [&](const SweepCell& c, const std::string& norm_and_other) {
    std::string text = (several_nets ? c.net + " " : "") + norm_and_other;
    if (batch_differs) text += fmt::format(", b{}", c.batch);
    if (lr_differs) text += fmt::format(", lr{}", float(c.learning_rate));
    return text;
  };
  // Accuracy against the normalisation batch: one figure per (net, batch, lr), one line per norm;
  // against the SGD batch where the norm batch is the batch; else one point per setting.
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
      if (cell.takes_groups) group_counts_drawn[group].insert(cell.channels_per_group);
    }
    ErrorBarSeries& one = by_setting.emplace_back();
    add(one, setting_label(cell, label), double(by_setting.size()), m);
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
      plot_error_bars(dir / file, series,
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
    plot_error_bars(dir / "accuracy-by-setting.png", by_setting,
                    fmt::format("{}: final test accuracy, {}", sweep_name, settings_words),
                    "setting (see the legend)", "test accuracy (%), mean ± std over seeds", false);
    md += "\n![accuracy by setting](accuracy-by-setting.png)\n";
  }
  // The norms overlaid layer by layer, from the runs' diagnostics, where two settings have them.
  std::vector<SettingDiagnostics> with_samples;
  const bool batches_vary = varies([](const SweepCell& c) { return c.batch; });
  const bool lrs_vary = varies([](const SweepCell& c) { return c.learning_rate; });
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (diagnostics[i].runs.empty()) continue;
    const SweepCell& c = cells[i];
    std::string label = (several_nets ? c.net + " " : "") + c.norm;
    if (c.norm_batch > 0 && c.norm_batch != c.batch) label += fmt::format(" K={}", c.norm_batch);
    if (!c.other.empty()) label += " " + c.other;
    if (batches_vary) label += fmt::format(" b{}", c.batch);
    if (lrs_vary) label += fmt::format(" lr{}", float(c.learning_rate));
    diagnostics[i].label = label;
    with_samples.push_back(std::move(diagnostics[i]));
  }
  if (with_samples.size() >= 2) {
    plot_diagnostics_by_setting(dir / "diagnostics-by-setting.png", with_samples,
                                fmt::format("{}: diagnostics by setting, {}", sweep_name, settings_words));
    md += "\n![diagnostics by setting](diagnostics-by-setting.png)\n";
  }
  // The loss landscape's panels on their own, where runs measured it (--landscape-every).
  std::vector<SettingDiagnostics> with_landscape;
  for (const SettingDiagnostics& setting : with_samples) {
    SettingDiagnostics landscape{setting.label, {}};
    for (const auto& run : setting.runs) {
      std::vector<DiagnosticsRow> rows;
      std::copy_if(run.begin(), run.end(), std::back_inserter(rows),
                   [](const DiagnosticsRow& r) { return r.quantity.starts_with("landscape_"); });
      if (!rows.empty()) landscape.runs.push_back(std::move(rows));
    }
    if (!landscape.runs.empty()) with_landscape.push_back(std::move(landscape));
  }
  if (const std::string table = landscape_table(with_landscape); !table.empty()) md += "\n" + table;
  if (with_landscape.size() >= 2) {
    plot_diagnostics_by_setting(dir / "landscape-by-setting.png", with_landscape,
                                fmt::format("{}: the loss landscape along the steps, {}", sweep_name, settings_words));
    md += "\n![loss landscape by setting](landscape-by-setting.png)\n";
  }
  return md;
}

}  // namespace normlab
