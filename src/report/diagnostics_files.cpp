#include "normlab/report/diagnostics_files.hpp"

#include <fmt/format.h>
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "normlab/base/error.hpp"
#include "normlab/io/atomic_file.hpp"
#include "plot_axes.hpp"
#include "plplot_figure.hpp"

namespace normlab {

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

constexpr int kRowPixels = 480, kHeaderPixels = 200;  // a row of panels; the page's titles

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
  const int columns = 4, rows_of_panels = int(panels.size() + columns - 1) / columns;
  const double x_max = std::max(1.0, double(last_step.rbegin()->first));
  render_plplot_png(png, 2400, kRowPixels * rows_of_panels + kHeaderPixels, [&] {
    draw_page_title(title);
    plcol0(kSubtleInkColor);
    plschr(0, kNoteTextScale);
    plmtex("t", -5.0, 0.5, 0.5, "one line per layer, in network order (blue first); log10 where values span decades");
    plschr(0, 1.0);
    for (std::size_t i = 0; i < panels.size(); ++i) {
      Panel& panel = panels[i];
      // A log scale where the positive values span more than two decades.
      double lo = INFINITY, hi = -INFINITY;
      bool positive = true;
      for (const auto& [layer, line] : panel.lines)
        for (double v : line.y) {
          if (!std::isfinite(v)) continue;
          positive = positive && v > 0;
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
      const bool log_scale = positive && lo > 0 && hi / lo > 100;
      std::vector<double> all;
      for (auto& [layer, line] : panel.lines)
        for (double& v : line.y) {
          if (log_scale) v = std::log10(v);
          all.push_back(v);
        }
      const int column = int(i) % columns, row = int(i) / columns;
      // Room below each panel for its axis labels and above it for its title.
      const double top = 1.0 - double(kHeaderPixels) / (kRowPixels * rows_of_panels + kHeaderPixels);
      const double height = top / rows_of_panels;
      const double width = 1.0 / columns;
      const PlotArea area{0.06 + column * width, (column + 1) * width - 0.03,
                          top - (row + 1) * height + 0.34 * height, top - row * height - 0.26 * height};
      draw_axes(area, {0, x_max}, padded_range(all), x_max > 10 ? 5.0 : 1.0,
                {title_of(panel.quantity), "epoch", log_scale ? "log10" : ""});
      for (std::size_t k = 0; k < panel.layers.size(); ++k) {
        const Line& line = panel.lines[panel.layers[k]];
        draw_series(line.x, line.y, series_color(k));
      }
    }
  });
}

}  // namespace normlab
