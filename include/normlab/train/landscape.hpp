// The loss landscape along the optimizer's steps, as Santurkar, Tsipras, Ilyas and Madry
// measure it ("How Does Batch Normalization Help Optimization?", NeurIPS 2018, Figure 4): at a
// measured step, with W the weights before the update and d the update the optimizer made,
// the loss L(t) and the gradient g(t) at W + t d for each t of kMultiples, on the step's own
// batch and dropout masks. Recorded as diagnostics rows: the range of the loss over t, the
// largest change of the gradient from t = 0, and the effective smoothness, the largest change
// of the gradient per unit of distance moved. The weights, the running statistics and the
// gradient are put back afterwards, so a run's trajectory is the same bits with or without it.
#pragma once

#include <iterator>
#include <vector>

#include "normlab/engine/network.hpp"
#include "normlab/report/diagnostics_row.hpp"

namespace normlab {

class Landscape {
 public:
  // Multiples of the step's update; t = 0 is the step itself (its loss and gradient).
  static constexpr double kMultiples[] = {0.5, 1, 2, 4};
  // Forward and backward passes a measurement adds to its step.
  static constexpr int kExtraPasses = int(std::size(kMultiples));

  explicit Landscape(const NetworkBase& net);

  // After the step's backward, before its update: the weights and gradient at t = 0.
  void keep_step_start(const NetworkBase& net);
  // After the update: walks W + t d on the batch still in the network's input and appends the
  // three rows. loss_at_start is the step's mean loss.
  void measure(NetworkBase& net, const int* labels, float label_smoothing, const StepKey& key,
               double loss_at_start, int epoch, int step, std::vector<DiagnosticsRow>& rows);

 private:
  std::vector<float> start_, after_, gradient_at_start_, gradient_after_, buffers_;
};

}  // namespace normlab
