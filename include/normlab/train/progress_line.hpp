// The text of Progress's lines, fitted to a width: the richest layout that fits, else the
// leanest one cut at the width. Kept apart from the printing so that tests can measure them.
#pragma once

#include <string>

#include "normlab/report/epoch_metrics.hpp"

namespace normlab {

// Where an epoch's training stands, for the live line on a terminal.
struct StepProgress {
  int epoch = 0, epochs = 0;  // epoch is 1-based
  int done = 0, steps = 0;
  double images_per_second = 0, mean_loss = 0, accuracy = 0, seconds_left = 0;
};

// "SeedNet/batch epoch 1/20 [#####.....] 120/390  2412 img/s  loss 1.8123  acc 33.10%  31s left",
// at most width - 1 columns: it is redrawn after a carriage return, and a full row would wrap.
std::string step_line(const std::string& label, const StepProgress& p, int width);

// One epoch's results, at most `width` columns.
std::string epoch_line(const std::string& label, int epochs, const EpochMetrics& m, int width);

}  // namespace normlab
