#include "plot_axes.hpp"

#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "plplot_figure.hpp"
#include "small_multiples.hpp"

namespace normlab {

AxisRange padded_range(std::span<const double> values) {
  double lo = INFINITY;
  double hi = -INFINITY;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo > hi) return {0, 1};
  if (lo == hi) {  // a flat line still needs a visible range
    double half = std::max(std::abs(lo) * 0.05, 0.5);
    return {lo - half, hi + half};
  }
  double margin = (hi - lo) * 0.06;
  return {lo - margin, hi + margin};
}

bool to_log_scale_if_spanning_decades(std::span<std::vector<double>*> lines) {
  double lo = INFINITY, hi = -INFINITY;
  bool positive = true;
  for (const std::vector<double>* line : lines)
    for (double v : *line) {
      if (!std::isfinite(v)) continue;
      positive = positive && v > 0;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  if (!(positive && lo > 0 && hi / lo > 100)) return false;
  for (std::vector<double>* line : lines)
    for (double& v : *line) v = std::log10(v);
  return true;
}

AxisRange epoch_range(int count) { return {0.5, std::max(count, 1) + 0.5}; }

double epoch_tick_step(int count) {
  for (double step : {1.0, 2.0, 5.0, 10.0, 20.0, 50.0}) {
    if (count / step <= 10) return step;
  }
  return 100;
}

namespace {
// PLplot's custom tick labels ("o"): x ticks at log2 values show the power of two itself.
void label_power_of_two(PLINT axis, PLFLT value, char* label, PLINT length, PLPointer) {
  if (axis == PL_X_AXIS)
    std::snprintf(label, std::size_t(length), "%.0f", std::exp2(value));
  else
    std::snprintf(label, std::size_t(length), "%g", value);
}
}  // namespace

void draw_axes(const PlotArea& area, AxisRange x, AxisRange y, double x_tick_step,
               const AxesText& text) {
  plvpor(area.left, area.right, area.bottom, area.top);
  plwind(x.min, x.max, y.min, y.max);

  plwidth(1);
  plcol0(kGridColor);
  plbox("g", x_tick_step, 0, "g", 0, 0);
  // Outward major ticks on the bottom and left only, a plain frame elsewhere: the quiet style
  // people know from matplotlib.
  plcol0(kInkColor);
  plschr(0, kTickTextScale);
  if (text.x_log2) {
    plslabelfunc(label_power_of_two, nullptr);
    plbox("bntio", x_tick_step, 0, "bntiv", 0, 0);
    plslabelfunc(nullptr, nullptr);
  } else {
    plbox("bnti", x_tick_step, 0, "bntiv", 0, 0);  // "v": y tick labels upright
  }
  plbox("c", 0, 0, "c", 0, 0);

  plschr(0, kLabelTextScale);
  plmtex("b", 3.2, 0.5, 0.5, text.x_label.c_str());
  plmtex("l", 4.6, 0.5, 0.5, text.y_label.c_str());
  plschr(0, kTitleTextScale);
  plmtex("t", 2.3, 0.5, 0.5, text.title.c_str());
  plschr(0, 1.0);
}

void draw_series(std::span<const double> x, std::span<const double> y, int color) {
  plcol0(color);
  plwidth(2.5);
  std::vector<double> run_x;
  std::vector<double> run_y;
  auto flush = [&] {
    if (run_x.size() >= 2) plline(static_cast<PLINT>(run_x.size()), run_x.data(), run_y.data());
    // Markers only while they stay distinct; with many epochs they would blur into the line.
    if (!run_x.empty() && x.size() <= 40) {
      plschr(0, 0.7);
      plstring(static_cast<PLINT>(run_x.size()), run_x.data(), run_y.data(), "•");
      plschr(0, 1.0);
    }
    run_x.clear();
    run_y.clear();
  };
  for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
    if (std::isfinite(y[i])) {
      run_x.push_back(x[i]);
      run_y.push_back(y[i]);
    } else {
      flush();
    }
  }
  flush();
  plwidth(1);
}

void draw_page_title(const std::string& title) {
  plvpor(0, 1, 0, 1);
  plwind(0, 1, 0, 1);
  plcol0(kInkColor);
  plschr(0, kPageTitleTextScale);
  plmtex("t", -1.7, 0.5, 0.5, title.c_str());
  plschr(0, 1.0);
}

}  // namespace normlab
