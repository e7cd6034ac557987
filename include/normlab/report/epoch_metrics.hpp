// What one epoch of training measured; the unit every report is built from.
#pragma once

namespace normlab {

struct EpochMetrics {
  int epoch = 0;  // 1-based
  double learning_rate = 0;  // at the epoch's last step
  double train_loss = 0;
  double train_accuracy = 0;  // percent
  double test_loss = 0;
  double test_accuracy = 0;  // percent
  double seconds = 0;  // wall time of training + evaluation
};

}  // namespace normlab
