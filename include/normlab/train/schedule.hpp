// Learning rate as a function of the global step: constant, one-cycle (cosine warm-up to the
// peak over the first 30 %, then cosine annealing to peak / 1e4, as PyTorch's OneCycleLR with
// its defaults) or cosine annealing from the peak to zero.
#pragma once

#include "normlab/train/train_config.hpp"

namespace normlab {

float learning_rate_at(Schedule schedule, float peak, long step, long total_steps);

}  // namespace normlab
