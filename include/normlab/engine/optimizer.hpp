// SGD with momentum (optionally Nesterov) and weight decay, as torch.optim.SGD computes it,
// over the network's contiguous parameter block.
#pragma once

#include "normlab/engine/network.hpp"

namespace normlab {

struct SgdConfig {
  float momentum = 0.9f;
  bool nesterov = false;
  float weight_decay = 0.f;  // applied to conv weights; to norm scales and shifts only if
  bool decay_norms = false;  // decay_norms is set
};

void sgd_step(const NetworkBase& net, const SgdConfig& config, float learning_rate);

}  // namespace normlab
