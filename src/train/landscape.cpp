#include "normlab/train/landscape.hpp"

#include <algorithm>
#include <cmath>

#include "normlab/engine/loss.hpp"

namespace normlab {

namespace {
// Serial, in element order: the same bits for any thread count.
double distance(std::span<const float> a, std::span<const float> b) {
  double squares = 0;
  for (std::size_t i = 0; i < a.size(); ++i) squares += std::pow(double(a[i]) - b[i], 2);
  return std::sqrt(squares);
}
}  // namespace

Landscape::Landscape(const NetworkBase& net)
    : start_(net.parameters().size()), after_(net.parameters().size()),
      gradient_at_start_(net.gradients().size()), gradient_after_(net.gradients().size()),
      buffers_(net.buffers().size()) {}

void Landscape::keep_step_start(const NetworkBase& net) {
  std::ranges::copy(net.parameters(), start_.begin());
  std::ranges::copy(net.gradients(), gradient_at_start_.begin());
}

void Landscape::measure(NetworkBase& net, const int* labels, float label_smoothing, const StepKey& key,
                        double loss_at_start, int epoch, int step, std::vector<DiagnosticsRow>& rows) {
  const std::span<float> weights = net.parameters();
  std::ranges::copy(weights, after_.begin());
  std::ranges::copy(net.buffers(), buffers_.begin());  // a training forward moves BatchNorm's
  std::ranges::copy(net.gradients(), gradient_after_.begin());
  const double step_length = distance(after_, start_);
  const int batch = net.batch();
  double lowest = loss_at_start, highest = loss_at_start, largest_change = 0, smoothness = 0;
  for (const double t : kMultiples) {
    for (std::size_t i = 0; i < weights.size(); ++i)
      weights[i] = float(start_[i] + t * (double(after_[i]) - start_[i]));
    net.forward(Pass::train, key);
    const LossResult r = softmax_cross_entropy(net.logits(), labels, batch, net.classes(),
                                               label_smoothing, net.logits_grad(), nullptr);
    net.backward();
    const double loss = r.loss_sum / batch;
    lowest = std::min(lowest, loss);
    highest = std::max(highest, loss);
    const double change = distance(net.gradients(), gradient_at_start_);
    largest_change = std::max(largest_change, change);
    if (step_length > 0) smoothness = std::max(smoothness, change / (t * step_length));
  }
  std::ranges::copy(after_, weights.begin());
  std::ranges::copy(buffers_, net.buffers().begin());
  std::ranges::copy(gradient_after_, net.gradients().begin());
  rows.push_back({epoch + 1, step + 1, "", "landscape_loss_range", highest - lowest});
  rows.push_back({epoch + 1, step + 1, "", "landscape_gradient_change", largest_change});
  rows.push_back({epoch + 1, step + 1, "", "landscape_smoothness", smoothness});
}

}  // namespace normlab
