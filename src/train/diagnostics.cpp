#include "normlab/train/diagnostics.hpp"

#include <algorithm>
#include <cmath>

namespace normlab {

namespace {
// Serial, in element order: the same bits for any thread count.
double norm_of(const float* v, long n) {
  double squares = 0;
  for (long i = 0; i < n; ++i) squares += double(v[i]) * v[i];
  return std::sqrt(squares);
}
}  // namespace

int Diagnostics::interval_for(int steps_per_epoch) { return std::max(1, steps_per_epoch / 20); }

Diagnostics::Diagnostics(NetworkBase& net, int steps_per_epoch)
    : interval_(interval_for(steps_per_epoch)) {
  const auto& table = net.parameter_table();
  for (std::size_t i = 0; i < table.size(); ++i) {
    const std::string& name = table[i].name;
    if (!name.starts_with("conv") || !name.ends_with(".weight")) continue;
    convs_.push_back({name.substr(0, name.size() - 7), i,
                      std::vector<float>(table[i].slot.bytes / sizeof(float)), 0, 0});
  }
}

void Diagnostics::read_before_update(NetworkBase& net) {
  net.gradient_probes().sampling = false;
  norms_ = net.norm_statistics();
  const Arena& arena = net.arena();
  for (ConvSample& c : convs_) {
    const ParameterInfo& p = net.parameter_table()[c.parameter];
    const float* w = arena.as<float>(p.slot);
    const long n = long(c.before.size());
    std::copy(w, w + n, c.before.begin());
    c.weight_norm = norm_of(w, n);
    c.gradient_norm = norm_of(arena.as<float>(arena.mirror(p.slot, Region::gradients)), n);
  }
}

void Diagnostics::finish(const NetworkBase& net, int epoch, int step, SinceLastSample& since,
                         std::vector<DiagnosticsRow>& rows) {
  auto add = [&](const std::string& layer, const char* quantity, double value) {
    rows.push_back({epoch + 1, step + 1, layer, quantity, value});
  };
  add("", "train_loss", since.seen > 0 ? since.loss_sum / double(since.seen) : 0.0);
  add("", "train_accuracy", since.seen > 0 ? 100.0 * double(since.correct) / double(since.seen) : 0.0);
  since = {};
  for (const NormStatistics& s : norms_) {
    add(s.layer, "input_mean", s.input_mean);
    add(s.layer, "input_std", s.input_std);
    add(s.layer, "output_mean", s.output_mean);
    add(s.layer, "output_std", s.output_std);
  }
  const Arena& arena = net.arena();
  for (const ConvSample& c : convs_) {
    const float* w = arena.as<float>(net.parameter_table()[c.parameter].slot);
    double change = 0;
    for (std::size_t i = 0; i < c.before.size(); ++i) change += std::pow(double(w[i]) - c.before[i], 2);
    add(c.layer, "weight_norm", c.weight_norm);
    add(c.layer, "gradient_norm", c.gradient_norm);
    add(c.layer, "update_ratio", c.weight_norm > 0 ? std::sqrt(change) / c.weight_norm : 0.0);
  }
  const GradientProbes& probes = net.gradient_probes();
  for (std::size_t i = 0; i < probes.layers.size(); ++i)
    add(probes.layers[i], "input_gradient_norm", probes.norms[i]);
}

}  // namespace normlab
