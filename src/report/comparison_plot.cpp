// Several runs on one axes with a legend: the picture of the normalisation study.
#include <plplot.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "normlab/base/error.hpp"
#include "normlab/report/curves.hpp"
#include "plot_axes.hpp"
#include "plplot_figure.hpp"

namespace normlab {
namespace {

// Like matplotlib's loc="best": the inside corner whose quarter of the plot holds the fewest
// points, so the legend hides as little data as possible.
PLINT emptiest_corner(std::span<const CurveSeries> series, AxisRange x, AxisRange y) {
  const std::array<PLINT, 4> corners = {PL_POSITION_TOP | PL_POSITION_RIGHT,
                                        PL_POSITION_BOTTOM | PL_POSITION_RIGHT,
                                        PL_POSITION_TOP | PL_POSITION_LEFT,
                                        PL_POSITION_BOTTOM | PL_POSITION_LEFT};
  std::array<int, 4> points_in_corner = {0, 0, 0, 0};
  for (const CurveSeries& s : series) {
    for (std::size_t i = 0; i < s.values.size(); ++i) {
      double fx = (static_cast<double>(i + 1) - x.min) / (x.max - x.min);
      double fy = (s.values[i] - y.min) / (y.max - y.min);
      if (!std::isfinite(fy)) continue;
      bool right = fx > 0.5;
      bool top = fy > 0.5;
      for (std::size_t c = 0; c < corners.size(); ++c) {
        bool corner_right = corners[c] & PL_POSITION_RIGHT;
        bool corner_top = corners[c] & PL_POSITION_TOP;
        if (right == corner_right && top == corner_top) ++points_in_corner[c];
      }
    }
  }
  auto best = std::min_element(points_in_corner.begin(), points_in_corner.end());
  return corners[static_cast<std::size_t>(best - points_in_corner.begin())];
}

void draw_legend(std::span<const CurveSeries> series, PLINT corner) {
  const auto n = static_cast<PLINT>(series.size());
  std::vector<PLINT> options(series.size(), PL_LEGEND_LINE);
  std::vector<PLINT> text_colors(series.size(), kInkColor);
  std::vector<PLINT> line_colors;
  std::vector<PLINT> line_styles(series.size(), 1);
  std::vector<PLFLT> line_widths(series.size(), 2.5);
  std::vector<const char*> labels;
  for (std::size_t i = 0; i < series.size(); ++i) {
    line_colors.push_back(series_color(i));
    labels.push_back(series[i].label.c_str());
  }
  PLFLT width = 0;
  PLFLT height = 0;
  plschr(0, kLabelTextScale);
  pllegend(&width, &height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
           PL_POSITION_INSIDE | corner, 0.02, 0.03, 0.07, kBackgroundColor, kGridColor, 1, n, 1,
           n, options.data(), 1.0, 0.8, 2.2, 0.0, text_colors.data(), labels.data(), nullptr,
           nullptr, nullptr, nullptr, line_colors.data(), line_styles.data(), line_widths.data(),
           nullptr, nullptr, nullptr, nullptr);
}

}  // namespace

void plot_comparison(const std::filesystem::path& png, std::span<const CurveSeries> series,
                     const std::string& title, const std::string& y_label) {
  std::size_t epochs = 0;
  std::vector<double> all_values;
  for (const CurveSeries& s : series) {
    epochs = std::max(epochs, s.values.size());
    all_values.insert(all_values.end(), s.values.begin(), s.values.end());
  }
  if (epochs == 0) throw Error(png.string() + ": no values to plot");

  const int count = static_cast<int>(epochs);
  const AxisRange x_range = epoch_range(count);
  const AxisRange y_range = padded_range(all_values);

  render_plplot_png(png, 1100, 750, [&] {
    draw_axes({0.085, 0.965, 0.10, 0.89}, x_range, y_range, epoch_tick_step(count),
              {title, "epoch", y_label});
    for (std::size_t i = 0; i < series.size(); ++i) {
      std::vector<double> x;
      for (std::size_t e = 0; e < series[i].values.size(); ++e) x.push_back(double(e + 1));
      draw_series(x, series[i].values, series_color(i));
    }
    draw_legend(series, emptiest_corner(series, x_range, y_range));
  });
}

}  // namespace normlab
