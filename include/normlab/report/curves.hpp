// Line plots of metrics per epoch, rendered to PNG. Files are written atomically; an unwritable
// destination or a PLplot failure throws normlab::Error naming the file.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "normlab/report/epoch_metrics.hpp"

namespace normlab {

// 2x2 figure like a typical PyTorch notebook: train loss, test loss, train accuracy, test
// accuracy per epoch. Throws if there are no epochs.
void plot_training_curves(const std::filesystem::path& png, std::span<const EpochMetrics> epochs,
                          const std::string& title);

// One line of a comparison plot: values[i] belongs to epoch i + 1.
struct CurveSeries {
  std::string label;
  std::vector<double> values;
};

// Several runs' values per epoch on one axes, with a legend (e.g. "BatchNorm", "GroupNorm").
// Throws if no series has a value.
void plot_comparison(const std::filesystem::path& png, std::span<const CurveSeries> series,
                     const std::string& title, const std::string& y_label);

}  // namespace normlab
