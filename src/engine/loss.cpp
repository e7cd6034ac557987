#include "normlab/engine/loss.hpp"

#include <cmath>

namespace normlab {

LossResult softmax_cross_entropy(const float* logits, const int* labels, int rows, int classes,
                                 float label_smoothing, float* grad, int* predictions) {
  LossResult result;
  const float off_target = label_smoothing / float(classes);
  const float on_target = 1.f - label_smoothing + off_target;
  for (int r = 0; r < rows; ++r) {
    const float* z = logits + long(r) * classes;
    int best = 0;
    for (int k = 1; k < classes; ++k)
      if (z[k] > z[best]) best = k;
    // Subtracting the maximum keeps exp() in range.
    double sum = 0;
    for (int k = 0; k < classes; ++k) sum += std::exp(double(z[k] - z[best]));
    const double log_sum = std::log(sum) + double(z[best]);
    double row_loss = 0;
    for (int k = 0; k < classes; ++k) {
      const double target = k == labels[r] ? on_target : off_target;
      const double log_p = double(z[k]) - log_sum;
      row_loss -= target * log_p;
      if (grad != nullptr) grad[long(r) * classes + k] = float((std::exp(log_p) - target) / rows);
    }
    result.loss_sum += row_loss;
    result.correct += best == labels[r];
    if (predictions != nullptr) predictions[r] = best;
  }
  return result;
}

}  // namespace normlab
