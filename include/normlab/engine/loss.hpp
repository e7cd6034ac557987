// Log-softmax with negative log-likelihood (cross-entropy), optionally label-smoothed as in
// PyTorch: the target is (1 - e) on the true class plus e / classes on every class.
#pragma once

namespace normlab {

struct LossResult {
  double loss_sum = 0;  // summed over the rows (divide by rows for the mean)
  int correct = 0;      // rows whose arg-max is the label
};

// logits: rows x classes. grad (may be null): d(mean loss)/d(logits), rows x classes.
// predictions (may be null): arg-max per row.
LossResult softmax_cross_entropy(const float* logits, const int* labels, int rows, int classes,
                                 float label_smoothing, float* grad, int* predictions);

}  // namespace normlab
