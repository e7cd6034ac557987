// A page of small multiples: panels in a grid of columns under a header, each with room for its
// title above and its axis labels below; values drawn on a log10 scale where they span decades.
// Used by the diagnostics figures.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "plot_axes.hpp"

namespace normlab {

struct SmallMultiples {
  std::size_t panels = 0;
  int columns = 4;
  int row_pixels = 240;
  int header_pixels = 100;  // the page title and the notes under it
  static constexpr int kWidth = 1200;           // with smaller text: about the size in memory of
  static constexpr double kTextScale = 0.6;     // the training curves, however many panels

  int rows() const { return int((panels + columns - 1) / columns); }
  int page_height() const { return row_pixels * rows() + header_pixels; }
  PlotArea area(std::size_t index) const {
    const double top = 1.0 - double(header_pixels) / page_height();
    const double height = top / rows(), width = 1.0 / columns;
    const int column = int(index) % columns, row = int(index) / columns;
    return {0.06 + column * width, (column + 1) * width - 0.03,
            top - (row + 1) * height + 0.34 * height, top - row * height - 0.26 * height};
  }
};

// True where every finite value is positive and the largest is over 100 times the smallest;
// then each of `lines` is replaced by its log10.
bool to_log_scale_if_spanning_decades(std::span<std::vector<double>*> lines);

}  // namespace normlab
