// What a person watching a run sees: on a terminal, one live bar per epoch (images/s, loss,
// accuracy, time left); on every output, one line per epoch. Lines fit terminal_width().
#pragma once

#include <string>

#include "normlab/report/epoch_metrics.hpp"

namespace normlab {

class Progress {
 public:
  Progress(std::string label, int epochs);
  void start_epoch(int epoch, int steps);
  // Cheap enough to call every step; redraws at most a few times a second.
  void step(int done, double mean_loss, double accuracy, double images_per_second);
  void end_epoch(const EpochMetrics& m);

 private:
  std::string label_;
  int epochs_, epoch_ = 0, steps_ = 0;
  bool terminal_;
  int width_;
  double started_ = 0, last_draw_ = 0;
};

}  // namespace normlab
