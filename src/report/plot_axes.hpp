// The parts every line plot shares: a framed, gridded axes box with labels, sensible ranges and
// lines that tolerate missing (non-finite) values. Call inside render_plplot_png.
#pragma once

#include <span>
#include <string>

namespace normlab {

// Text sizes relative to PLplot's default character height, tuned for ~1000 px wide figures.
constexpr double kTickTextScale = 0.75;
constexpr double kLabelTextScale = 0.85;
constexpr double kTitleTextScale = 1.0;
constexpr double kPageTitleTextScale = 1.25;
constexpr double kNoteTextScale = 0.7;

struct AxisRange {
  double min;
  double max;
};

// The span of the finite values plus a margin, so lines do not sit on the frame.
// Falls back to [0, 1] when there is no finite value.
AxisRange padded_range(std::span<const double> values);

// Epochs 1..count with half an epoch of margin on each side.
AxisRange epoch_range(int count);

// Tick spacing for an epoch axis: whole epochs, at most about ten ticks.
double epoch_tick_step(int count);

// Where the plotting area sits on the page, in normalised page coordinates (0..1).
struct PlotArea {
  double left, right, bottom, top;
};

struct AxesText {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool x_log2 = false;  // x values are log2 of the quantity; ticks are labelled 2^x (2, 4, 8, ...)
};

// Sets viewport and window, then draws grid, frame, numeric ticks, labels and title.
void draw_axes(const PlotArea& area, AxisRange x, AxisRange y, double x_tick_step,
               const AxesText& text);

// A polyline with round markers, broken where y is not finite (e.g. a diverged loss).
void draw_series(std::span<const double> x, std::span<const double> y, int color);

// A title centred above everything, in page coordinates.
void draw_page_title(const std::string& title);

}  // namespace normlab
