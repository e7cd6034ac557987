// One value of one diagnostics sample (diagnostics.hpp), in long form: diagnostics.csv has
// these columns, one row per (sample, layer, quantity).
#pragma once

#include <string>

namespace normlab {

struct DiagnosticsRow {
  int epoch = 0;  // 1-based, as the progress line and metrics.csv count
  int step = 0;   // 1-based, within the epoch
  std::string layer;     // "bn3", "conv2", ...; "" for the run's loss and accuracy
  std::string quantity;  // "input_std", "update_ratio", "train_loss", ...
  double value = 0;
};

}  // namespace normlab
