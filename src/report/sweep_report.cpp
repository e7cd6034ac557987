#include "normlab/report/sweep_report.hpp"

#include <fmt/format.h>
#include <plplot.h>

#include <algorithm>
#include <cmath>

#include "normlab/base/error.hpp"
#include "csv_field.hpp"
#include "normlab/report/comparison_table.hpp"
#include "plot_axes.hpp"
#include "plplot_figure.hpp"

namespace normlab {

namespace {
std::string norm_batch_text(const SweepCell& c) {
  return c.norm_batch > 0 ? std::to_string(c.norm_batch) : std::string("any");
}

std::string mean_std_text(const std::vector<double>& values, int decimals) {
  if (values.empty()) return "n/a";
  const MeanStd m = mean_std(values);
  if (values.size() == 1) return fmt::format("{:.{}f}", m.mean, decimals);
  return fmt::format("{:.{}f} ± {:.{}f}", m.mean, decimals, m.std, decimals);
}
}  // namespace

std::string sweep_table_markdown(std::span<const SweepCell> cells) {
  // A column for the other options only when the points differ in some.
  const bool other = std::any_of(cells.begin(), cells.end(), [](const SweepCell& c) { return !c.other.empty(); });
  std::string table = fmt::format(
      "| net | norm | {}batch | norm batch | lr | runs | final test acc | last-5-epochs test acc | "
      "s/epoch |\n|---|---|{}---:|---:|---:|---:|---:|---:|---:|\n",
      other ? "other | " : "", other ? "---|" : "");
  for (const SweepCell& c : cells)
    table += fmt::format("| {} | {} | {}{} | {} | {:g} | {} | {} | {} | {} |\n", c.net, c.norm,
                         other ? c.other + " | " : "", c.batch, norm_batch_text(c), c.learning_rate,
                         c.not_averaged.empty()
                             ? std::to_string(c.final_accuracy.size())
                             : fmt::format("{} of {}", c.final_accuracy.size(),
                                           c.final_accuracy.size() + c.not_averaged.size()),
                         mean_std_text(c.final_accuracy, 2), mean_std_text(c.last5_accuracy, 2),
                         mean_std_text(c.seconds_per_epoch, 1));
  std::string missing;
  for (const SweepCell& c : cells)
    for (const std::string& line : c.not_averaged) missing += "- " + line + "\n";
  if (!missing.empty()) table += "\nNot averaged:\n\n" + missing;
  return table;
}

std::string sweep_table_csv(std::span<const SweepCell> cells) {
  std::string csv =
      "net,norm,other,batch,norm_batch,learning_rate,runs,not_averaged,final_test_accuracy_mean,"
      "final_test_accuracy_std,last5_test_accuracy_mean,last5_test_accuracy_std,seconds_per_epoch_mean\n";
  auto number = [](const std::vector<double>& values, bool std) {
    if (values.empty()) return std::string();
    const MeanStd m = mean_std(values);
    return fmt::format("{:.4f}", std ? m.std : m.mean);
  };
  for (const SweepCell& c : cells)
    csv += fmt::format("{},{},{},{},{},{:g},{},{},{},{},{},{},{}\n", csv_field(c.net), csv_field(c.norm),
                       csv_field(c.other), c.batch, norm_batch_text(c), c.learning_rate,
                       c.final_accuracy.size(), c.not_averaged.size(),
                       number(c.final_accuracy, false), number(c.final_accuracy, true),
                       number(c.last5_accuracy, false), number(c.last5_accuracy, true),
                       number(c.seconds_per_epoch, false));
  return csv;
}

void plot_error_bars(const std::filesystem::path& png, std::span<const ErrorBarSeries> series,
                     const std::string& title, const std::string& x_label,
                     const std::string& y_label, bool x_log2) {
  std::vector<double> xs, ys;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      xs.push_back(s.x[i]);
      ys.push_back(s.mean[i] - s.std[i]);
      ys.push_back(s.mean[i] + s.std[i]);
    }
  if (xs.empty()) fail(png, "no finished runs to plot");
  AxisRange x = {*std::min_element(xs.begin(), xs.end()) - 0.3,
                 *std::max_element(xs.begin(), xs.end()) + 0.3};
  const AxisRange y = padded_range(ys);
  // The legend sits right of the axes: the page widens for long labels (about 16 pixels a
  // character at the label scale) so that none is cut; the axes keep their 880 pixels.
  std::size_t longest = 0;
  for (const auto& s : series) longest = std::max(longest, s.label.size() + 2);
  const int width = std::max(1100, 880 + 40 + 16 * int(longest));
  render_plplot_png(png, width, 750, [&] {
    draw_axes({93.5 / width, 880.0 / width, 0.10, 0.89}, x, y, x_log2 ? 1.0 : 0.0,
              {title, x_label, y_label, x_log2});
    for (std::size_t i = 0; i < series.size(); ++i) {
      const auto& s = series[i];
      draw_series(s.x, s.mean, series_color(i));
      std::vector<double> low, high;
      for (std::size_t k = 0; k < s.x.size(); ++k) {
        low.push_back(s.mean[k] - s.std[k]);
        high.push_back(s.mean[k] + s.std[k]);
      }
      plwidth(1.5);
      plerry(PLINT(s.x.size()), s.x.data(), low.data(), high.data());
    }
    // The legend to the right of the axes, one line per series.
    for (std::size_t i = 0; i < series.size(); ++i) {
      plcol0(series_color(i));
      plschr(0, kLabelTextScale);
      plmtex("rv", 1.5, 0.95 - 0.06 * double(i), 0.0, ("— " + series[i].label).c_str());
    }
    plschr(0, 1.0);
  });
}

}  // namespace normlab
