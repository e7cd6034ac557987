// The confusion matrix as a heat map: row = actual class (top to bottom), column = predicted.
#include <plplot.h>

#include <algorithm>
#include <string>

#include "confusion_checks.hpp"
#include "normlab/report/confusion.hpp"
#include "plot_axes.hpp"
#include "plplot_figure.hpp"

namespace normlab {
namespace {

// White to dark blue, like matplotlib's "Blues".
void use_blues_colormap() {
  PLFLT position[] = {0.0, 1.0};
  PLFLT red[] = {0.97, 0.03};
  PLFLT green[] = {0.98, 0.19};
  PLFLT blue[] = {1.00, 0.42};
  plscmap1n(256);
  plscmap1l(1, 2, position, red, green, blue, nullptr);
}

// Longest class name, to keep the axis titles clear of the tick labels.
double longest_name_in_characters(const std::vector<std::string>& names) {
  std::size_t longest = 0;
  for (const std::string& name : names) longest = std::max(longest, name.size());
  return static_cast<double>(longest);
}

}  // namespace

void plot_confusion(const std::filesystem::path& png, const std::vector<std::int64_t>& counts,
                    const std::vector<std::string>& class_names, const std::string& title) {
  check_confusion_shape(png, counts, class_names);
  const int n = static_cast<int>(class_names.size());
  const std::int64_t largest = std::max<std::int64_t>(1, *std::max_element(counts.begin(), counts.end()));
  const double cell_pixels = 700.0 / n;
  const double count_text_scale = std::clamp(cell_pixels / 75.0, 0.35, 1.1);
  // In character heights of the axis titles: tick labels run about 0.55 of that per character.
  const double label_room = 1.8 + 0.55 * longest_name_in_characters(class_names);

  render_plplot_png(png, 1000, 1000, [&] {
    use_blues_colormap();
    plvpor(0.18, 0.88, 0.19, 0.89);  // 700 px square cells area
    plwind(0, n, 0, n);

    for (int actual = 0; actual < n; ++actual) {
      for (int predicted = 0; predicted < n; ++predicted) {
        const std::int64_t count = counts[static_cast<std::size_t>(actual * n + predicted)];
        const double shade =
            std::clamp(static_cast<double>(count) / static_cast<double>(largest), 0.0, 1.0);
        const double top = n - actual;  // row 0 at the top, as a matrix is read
        PLFLT xs[] = {double(predicted), double(predicted + 1), double(predicted + 1),
                      double(predicted)};
        PLFLT ys[] = {top - 1, top - 1, top, top};
        plcol1(shade);
        plfill(4, xs, ys);
        plcol0(shade > 0.55 ? kBackgroundColor : kInkColor);
        plschr(0, count_text_scale);
        plptex(predicted + 0.5, top - 0.5, 1, 0, 0.5, std::to_string(count).c_str());
      }
    }

    plcol0(kInkColor);
    plschr(0, kLabelTextScale);
    plbox("bc", 0, 0, "bc", 0, 0);
    for (int i = 0; i < n; ++i) {
      const double along = (i + 0.5) / n;
      plmtex("lv", 0.7, 1.0 - along, 1.0, class_names[static_cast<std::size_t>(i)].c_str());
      plmtex("bv", 0.7, along, 1.0, class_names[static_cast<std::size_t>(i)].c_str());
    }
    plschr(0, kTitleTextScale);
    plmtex("l", label_room, 0.5, 0.5, "actual");
    plmtex("b", label_room, 0.5, 0.5, "predicted");
    plschr(0, kPageTitleTextScale);
    plmtex("t", 1.4, 0.5, 0.5, title.c_str());
  });
}

}  // namespace normlab
