#include "normlab/engine/optimizer.hpp"

namespace normlab {

void sgd_step(const NetworkBase& net, const SgdConfig& config, float learning_rate) {
  float* w0 = net.parameters().data();
  float* g0 = net.gradients().data();
  float* v0 = net.momentum().data();
  for (const auto& p : net.parameter_table()) {
    const long offset = long(p.slot.offset / sizeof(float));
    const long n = long(p.slot.bytes / sizeof(float));
    float *w = w0 + offset, *g = g0 + offset, *v = v0 + offset;
    const float decay = p.decay || config.decay_norms ? config.weight_decay : 0.f;
    for (long i = 0; i < n; ++i) {
      const float grad = g[i] + decay * w[i];
      v[i] = config.momentum * v[i] + grad;
      const float step = config.nesterov ? grad + config.momentum * v[i] : v[i];
      w[i] -= learning_rate * step;
    }
  }
}

}  // namespace normlab
