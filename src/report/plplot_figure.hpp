// One PLplot figure rendered by the pngcairo device, with PLplot's global state kept in check:
// a private stream per figure, one figure at a time, errors turned into exceptions, no console
// output.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>

namespace normlab {

// The cmap0 palette every figure starts with.
enum PlotColor : int {
  kBackgroundColor = 0,
  kInkColor = 1,        // axes and text
  kGridColor = 2,       // light grey
  kSubtleInkColor = 3,  // secondary text
  kFirstSeriesColor = 4,
};
constexpr int kSeriesColorCount = 10;  // matplotlib's "tab10", familiar from notebooks

inline int series_color(std::size_t index) {
  return kFirstSeriesColor + static_cast<int>(index % kSeriesColorCount);
}

// Calls `draw` on a fresh, initialised PLplot stream of width x height pixels (one page already
// begun), with text `text_scale` times the device's size, then writes the PNG atomically.
// Throws normlab::Error naming `png` when it cannot be written or PLplot reports an error.
// The page is held in memory as 4 bytes a pixel while it is drawn: a run's peak memory counts
// its largest figure (1200 x 900 for the training curves).
void render_plplot_png(const std::filesystem::path& png, int width, int height,
                       const std::function<void()>& draw, double text_scale = 1.0);

}  // namespace normlab
