// The 2x2 training-curves figure: losses on top, accuracies below, train left, test right.
#include <fmt/format.h>
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "normlab/base/error.hpp"
#include "normlab/report/curves.hpp"
#include "plot_axes.hpp"
#include "plplot_figure.hpp"

namespace normlab {
namespace {

struct Panel {
  const char* title;
  const char* y_label;
  double EpochMetrics::*value;
  bool higher_is_better;
  const char* unit;
  PlotArea area;
  std::size_t series;  // colour: train blue, test orange
};

// "final 0.412 · best 0.398 (epoch 14)": the numbers one looks for first in such a figure.
std::string final_and_best(std::span<const double> values, bool higher_is_better,
                           const char* unit) {
  std::size_t best = values.size();
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) continue;
    if (best == values.size() ||
        (higher_is_better ? values[i] > values[best] : values[i] < values[best])) {
      best = i;
    }
  }
  if (best == values.size()) return "no finite values";
  return fmt::format("final {:.4g}{} · best {:.4g}{} (epoch {})", values.back(), unit,
                     values[best], unit, best + 1);
}

}  // namespace

void plot_training_curves(const std::filesystem::path& png, std::span<const EpochMetrics> epochs,
                          const std::string& title) {
  if (epochs.empty()) throw Error(png.string() + ": no epochs to plot");

  const Panel panels[] = {
      {"Train loss", "loss", &EpochMetrics::train_loss, false, "", {0.08, 0.475, 0.565, 0.855}, 0},
      {"Test loss", "loss", &EpochMetrics::test_loss, false, "", {0.575, 0.97, 0.565, 0.855}, 1},
      {"Train accuracy", "accuracy (%)", &EpochMetrics::train_accuracy, true, "%",
       {0.08, 0.475, 0.095, 0.385}, 0},
      {"Test accuracy", "accuracy (%)", &EpochMetrics::test_accuracy, true, "%",
       {0.575, 0.97, 0.095, 0.385}, 1},
  };

  std::vector<double> x;
  for (const EpochMetrics& m : epochs) x.push_back(m.epoch);
  const int count = static_cast<int>(epochs.size());
  // Epoch numbers come from the data, so a resumed run's curve starts where it resumed.
  AxisRange x_range = {x.front() - 0.5, x.back() + 0.5};
  if (x_range.max <= x_range.min) x_range = epoch_range(count);

  render_plplot_png(png, 1200, 900, [&] {
    draw_page_title(title);
    for (const Panel& panel : panels) {
      std::vector<double> y;
      for (const EpochMetrics& m : epochs) y.push_back(m.*panel.value);
      draw_axes(panel.area, x_range, padded_range(y), epoch_tick_step(count),
                {panel.title, "epoch", panel.y_label});
      plcol0(kSubtleInkColor);
      plschr(0, kNoteTextScale);
      plmtex("t", 0.6, 1.0, 1.0, final_and_best(y, panel.higher_is_better, panel.unit).c_str());
      plschr(0, 1.0);
      draw_series(x, y, series_color(panel.series));
    }
  });
}

}  // namespace normlab
