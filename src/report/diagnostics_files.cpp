#include "normlab/report/diagnostics_files.hpp"

#include <fmt/format.h>
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "normlab/base/error.hpp"
#include "normlab/io/atomic_file.hpp"
#include "plot_axes.hpp"
#include "plplot_figure.hpp"
#include "small_multiples.hpp"

namespace normlab {

std::vector<DiagnosticsRow> read_diagnostics_csv(const std::filesystem::path& csv) {
  std::ifstream in(csv);
  if (!in) fail(csv, "cannot read");
  std::string line;
  if (!std::getline(in, line) || line != "epoch,step,layer,quantity,value")
    fail(csv, "not a diagnostics file (its first line is not epoch,step,layer,quantity,value)");
  std::vector<DiagnosticsRow> rows;
  for (int number = 2; std::getline(in, line); ++number) {
    DiagnosticsRow r;
    std::istringstream fields(line);
    std::string epoch, step, value;
    char* end = nullptr;
    const bool parsed = std::getline(fields, epoch, ',') && std::getline(fields, step, ',') &&
                        std::getline(fields, r.layer, ',') && std::getline(fields, r.quantity, ',') &&
                        std::getline(fields, value) && !value.empty();
    if (parsed) {
      r.epoch = std::atoi(epoch.c_str());
      r.step = std::atoi(step.c_str());
      r.value = std::strtod(value.c_str(), &end);
    }
    if (!parsed || *end != '\0' || r.epoch < 1 || r.step < 1)
      fail(csv, fmt::format("line {} is not epoch,step,layer,quantity,value", number));
    rows.push_back(std::move(r));
  }
  return rows;
}

void write_diagnostics_csv(const std::filesystem::path& csv, std::span<const DiagnosticsRow> rows) {
  std::string text = "epoch,step,layer,quantity,value\n";
  for (const DiagnosticsRow& r : rows)
    text += fmt::format("{},{},{},{},{}\n", r.epoch, r.step, r.layer, r.quantity, r.value);
  write_file_atomically(csv, text);
}

namespace {

struct Line {
  std::vector<double> x, y;
};

// The panels in the order the quantities first appear, each with its layers in network order.
struct Panel {
  std::string quantity;
  std::vector<std::string> layers;
  std::map<std::string, Line> lines;
};

// "input_std" -> "input std"; the landscape's "landscape_gradient_change" -> "step: gradient
// change" (short enough for a panel).
std::string title_of(std::string quantity) {
  const bool landscape = quantity.starts_with("landscape_");
  if (landscape) quantity = quantity.substr(10);
  std::replace(quantity.begin(), quantity.end(), '_', ' ');
  return landscape ? "step: " + quantity : quantity;
}

}  // namespace

void plot_diagnostics(const std::filesystem::path& png, std::span<const DiagnosticsRow> rows,
                      const std::string& title) {
  if (rows.empty()) throw Error(png.string() + ": no diagnostics to plot");
  // x in epochs: a sample at step s of epoch e sits at e - 1 + s / (the epoch's last sampled step).
  std::map<int, int> last_step;
  for (const DiagnosticsRow& r : rows) last_step[r.epoch] = std::max(last_step[r.epoch], r.step);
  std::vector<Panel> panels;
  for (const DiagnosticsRow& r : rows) {
    auto it = std::find_if(panels.begin(), panels.end(), [&](const Panel& p) { return p.quantity == r.quantity; });
    if (it == panels.end()) it = panels.insert(panels.end(), Panel{r.quantity, {}, {}});
    if (!it->lines.count(r.layer)) it->layers.push_back(r.layer);
    Line& line = it->lines[r.layer];
    line.x.push_back(r.epoch - 1 + double(r.step) / last_step[r.epoch]);
    line.y.push_back(r.value);
  }
  const SmallMultiples page{panels.size()};
  const double x_max = std::max(1.0, double(last_step.rbegin()->first));
  render_plplot_png(png, SmallMultiples::kWidth, page.page_height(), [&] {
    draw_page_title(title);
    plcol0(kSubtleInkColor);
    plschr(0, kNoteTextScale);
    plmtex("t", -5.0, 0.5, 0.5, "one line per layer, in network order (blue first); log10 where values span decades");
    plschr(0, 1.0);
    for (std::size_t i = 0; i < panels.size(); ++i) {
      Panel& panel = panels[i];
      std::vector<std::vector<double>*> lines;
      for (auto& [layer, line] : panel.lines) lines.push_back(&line.y);
      const bool log_scale = to_log_scale_if_spanning_decades(lines);
      std::vector<double> all;
      for (const auto* line : lines) all.insert(all.end(), line->begin(), line->end());
      draw_axes(page.area(i), {0, x_max}, padded_range(all), x_max > 10 ? 5.0 : 1.0,
                {title_of(panel.quantity), "epoch", log_scale ? "log10" : ""});
      for (std::size_t k = 0; k < panel.layers.size(); ++k) {
        const Line& line = panel.lines[panel.layers[k]];
        draw_series(line.x, line.y, series_color(k));
      }
    }
  }, SmallMultiples::kTextScale);
}

namespace {

// One setting's panel data: over time for the run's own quantities (loss, accuracy, landscape),
// by depth for the per-layer ones; each the mean over the setting's runs.
struct SettingSeries {
  std::map<std::string, std::map<double, std::pair<double, int>>> over_time;  // x -> (sum, n)
  std::map<std::string, std::map<int, std::pair<double, int>>> by_depth;     // position -> (sum, n)
};

void add_run(SettingSeries& series, std::span<const DiagnosticsRow> rows) {
  if (rows.empty()) return;
  std::map<int, int> last_step;
  int last_epoch = 0;
  for (const DiagnosticsRow& r : rows) {
    last_step[r.epoch] = std::max(last_step[r.epoch], r.step);
    last_epoch = std::max(last_epoch, r.epoch);
  }
  // Per-layer quantities: the mean over the last epoch's samples, at the layer's position in
  // network order (bn3, gn3 and ln3 are the same place of different networks).
  std::map<std::string, std::vector<std::string>> order;
  std::map<std::pair<std::string, std::string>, std::pair<double, int>> last_epoch_mean;
  for (const DiagnosticsRow& r : rows) {
    const double x = r.epoch - 1 + double(r.step) / last_step[r.epoch];
    if (r.layer.empty()) {
      auto& [sum, n] = series.over_time[r.quantity][x];
      sum += r.value;
      ++n;
      continue;
    }
    auto& layers = order[r.quantity];
    if (std::find(layers.begin(), layers.end(), r.layer) == layers.end()) layers.push_back(r.layer);
    if (r.epoch == last_epoch && std::isfinite(r.value)) {
      auto& [sum, n] = last_epoch_mean[{r.quantity, r.layer}];
      sum += r.value;
      ++n;
    }
  }
  for (const auto& [quantity, layers] : order)
    for (std::size_t i = 0; i < layers.size(); ++i)
      if (auto it = last_epoch_mean.find({quantity, layers[i]}); it != last_epoch_mean.end()) {
        auto& [sum, n] = series.by_depth[quantity][int(i) + 1];
        sum += it->second.first / it->second.second;
        ++n;
      }
}

}  // namespace

void plot_diagnostics_by_setting(const std::filesystem::path& png,
                                 std::span<const SettingDiagnostics> settings, const std::string& title) {
  std::vector<SettingSeries> series(settings.size());
  std::vector<std::string> time_quantities, depth_quantities;  // in order of first appearance
  auto note = [](std::vector<std::string>& list, const std::string& q) {
    if (std::find(list.begin(), list.end(), q) == list.end()) list.push_back(q);
  };
  double x_max = 1;
  for (std::size_t s = 0; s < settings.size(); ++s)
    for (const auto& run : settings[s].runs) {
      add_run(series[s], run);
      for (const DiagnosticsRow& r : run) {
        note(r.layer.empty() ? time_quantities : depth_quantities, r.quantity);
        x_max = std::max(x_max, double(r.epoch));
      }
    }
  if (time_quantities.empty() && depth_quantities.empty())
    throw Error(png.string() + ": no diagnostics to plot");
  std::vector<std::string> panels = time_quantities;
  panels.insert(panels.end(), depth_quantities.begin(), depth_quantities.end());
  // One row of panels (the landscape's three) gets taller panels; 95 px leave room for the legend.
  const int columns = int(std::min<std::size_t>(4, panels.size()));
  const SmallMultiples page{panels.size(), columns, panels.size() <= 4 ? 330 : 240, 95};
  render_plplot_png(png, SmallMultiples::kWidth, page.page_height(), [&] {
    draw_page_title(title);
    plschr(0, kNoteTextScale);
    plcol0(kSubtleInkColor);
    if (!depth_quantities.empty())
      plmtex("t", -5.0, 0.5, 0.5, "per-layer panels: the last epoch's mean at each layer's place in the network");
    plmtex("t", -6.1, 0.5, 0.5, "each line the mean over a setting's runs; log10 where values span decades");
    for (std::size_t s = 0; s < settings.size(); ++s) {  // the legend: each setting in its colour
      plcol0(series_color(s));
      plmtex("t", -8.0, (s + 0.5) / double(settings.size()), 0.5, settings[s].label.c_str());
    }
    plschr(0, 1.0);
    for (std::size_t i = 0; i < panels.size(); ++i) {
      const bool over_time = i < time_quantities.size();
      std::vector<std::vector<double>> xs(settings.size()), ys(settings.size());
      for (std::size_t s = 0; s < settings.size(); ++s) {
        if (over_time) {
          for (const auto& [x, sum_n] : series[s].over_time[panels[i]]) {
            xs[s].push_back(x);
            ys[s].push_back(sum_n.first / sum_n.second);
          }
        } else {
          for (const auto& [position, sum_n] : series[s].by_depth[panels[i]]) {
            xs[s].push_back(position);
            ys[s].push_back(sum_n.first / sum_n.second);
          }
        }
      }
      std::vector<std::vector<double>*> lines;
      for (auto& y : ys) lines.push_back(&y);
      const bool log_scale = to_log_scale_if_spanning_decades(lines);
      std::vector<double> all, all_x;
      for (std::size_t s = 0; s < settings.size(); ++s) {
        all.insert(all.end(), ys[s].begin(), ys[s].end());
        all_x.insert(all_x.end(), xs[s].begin(), xs[s].end());
      }
      const double depth = all_x.empty() ? 1 : *std::max_element(all_x.begin(), all_x.end());
      const AxisRange x_range = over_time ? AxisRange{0, x_max} : AxisRange{0.5, depth + 0.5};
      const double tick = over_time ? (x_max > 10 ? 5.0 : 1.0) : (depth > 9 ? 2.0 : 1.0);
      draw_axes(page.area(i), x_range, padded_range(all), tick,
                {title_of(panels[i]), over_time ? "epoch" : "layer (network order)", log_scale ? "log10" : ""});
      for (std::size_t s = 0; s < settings.size(); ++s) draw_series(xs[s], ys[s], series_color(s));
    }
  }, SmallMultiples::kTextScale);
}

}  // namespace normlab
