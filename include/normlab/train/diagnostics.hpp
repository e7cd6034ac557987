// Per-layer training diagnostics, sampled about 20 times an epoch: for every norm layer the
// mean and standard deviation of its input and output, for every convolution its weight norm,
// gradient norm, update ratio |dW| / |W| and the norm of the gradient reaching its input, and
// the training loss and accuracy of the steps since the last sample. They only read the
// network, so a run's bits are the same with them; each sum runs in a fixed order, so they are
// the same bits for any thread count; they live in the training state (and its checkpoint), so
// a resumed run's file equals an uninterrupted run's.
#pragma once

#include <string>
#include <vector>

#include "normlab/engine/network.hpp"
#include "normlab/report/diagnostics_row.hpp"

namespace normlab {

// The training loss and accuracy summed since the last sample (carried across epochs).
struct SinceLastSample {
  double loss_sum = 0;
  long correct = 0;
  long seen = 0;
};

class Diagnostics {
 public:
  // About 20 samples an epoch: every steps_per_epoch / 20 steps (at least every step).
  static int interval_for(int steps_per_epoch);

  Diagnostics(NetworkBase& net, int steps_per_epoch);
  int interval() const { return interval_; }
  // Whether the diagnostics sample at this step (0-based within the epoch).
  bool due(int step) const { return (step + 1) % interval_ == 0; }

  // A sampled step: begin before backward (the convolutions record their input gradient's
  // norm), read after backward and before the update, finish after the update.
  void begin(NetworkBase& net) const { net.gradient_probes().sampling = true; }
  void read_before_update(NetworkBase& net);
  void finish(const NetworkBase& net, int epoch, int step, SinceLastSample& since,
              std::vector<DiagnosticsRow>& rows);

 private:
  struct ConvSample {
    std::string layer;      // "conv2"
    std::size_t parameter;  // index in the network's parameter table
    std::vector<float> before;  // the weights before the update (allocated once)
    double weight_norm = 0, gradient_norm = 0;
  };
  int interval_;
  std::vector<ConvSample> convs_;
  std::vector<NormStatistics> norms_;
};

}  // namespace normlab
