// The report of a sweep: final accuracy against the normalisation batch (and the SGD batch),
// mean +- std over seeds, as a Markdown table and PNG figures with error bars.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "normlab/report/diagnostics_files.hpp"

namespace normlab {

// One setting of the grid (net, norm, batch, norm batch, learning rate, and any other option
// the points differ in) over its seeds.
struct SweepCell {
  std::string net;
  std::string norm;  // display name, "BatchNorm"
  std::string other;  // the other options that differ between the sweep's points: "conv=winograd"
  int batch = 0;
  int norm_batch = 0;  // the images BatchNorm's statistics saw; 0 for a norm that ignores it ("any")
  std::vector<int> plotted_norm_batches;  // where its line stands in a figure against the norm batch
  double learning_rate = 0;
  // For GroupNorm, LayerNorm and InstanceNorm: the channels each group normalises in the
  // network's widest normalised layers (LayerNorm: all of them, InstanceNorm: 1); else 0.
  int channels_per_group = 0;
  bool takes_groups = false;  // GroupNorm: its group count is a setting of the grid
  std::string other_but_groups;  // `other` without "groups=G": the family's line in a figure
  std::vector<double> final_accuracy;  // one per finished seed
  std::vector<double> last5_accuracy;  // mean test accuracy of each finished seed's last 5 epochs
  std::vector<double> seconds_per_epoch;
  std::vector<std::string> not_averaged;  // "seed 2: diverged at epoch 3, step 7 (...)"
};

// One row per cell: runs, final test accuracy and last-5-epochs mean (mean +- std), s/epoch;
// then every run not averaged (diverged, unfinished), listed by name.
std::string sweep_table_markdown(std::span<const SweepCell> cells);
// The same rows as CSV, with means and standard deviations in columns of their own.
std::string sweep_table_csv(std::span<const SweepCell> cells);

struct ErrorBarSeries {
  std::string label;
  std::vector<double> x, mean, std;  // x in plot units (log2 of the batch for a log2 axis)
};

// Lines with error bars (+-1 std) and a legend; a log2 x axis labels its ticks 2, 4, 8, ...
void plot_error_bars(const std::filesystem::path& png, std::span<const ErrorBarSeries> series,
                     const std::string& title, const std::string& x_label,
                     const std::string& y_label, bool x_log2);

// Draws the report's figures into `dir` and returns the Markdown that shows them: accuracy
// against the normalisation batch, the SGD batch or channels per group (log2) where the cells
// vary one, else accuracy by setting; and `diagnostics` (one per cell, in cell order; cells
// without runs that recorded them are left out) overlaid where two cells have them.
std::string draw_sweep_figures(const std::filesystem::path& dir, const std::string& sweep_name,
                               const std::string& settings_words, std::span<const SweepCell> cells,
                               std::vector<SettingDiagnostics> diagnostics);

}  // namespace normlab
