#include "normlab/train/weights.hpp"

#include <cstdio>

namespace normlab {

namespace {
std::string_view module_of(std::string_view name) { return name.substr(0, name.rfind('.')); }
}  // namespace

std::vector<TensorView> weight_views(const NetworkBase& net) {
  // PyTorch's state_dict order: each module's parameters, then its running statistics.
  std::vector<TensorView> views;
  const auto& buffers = net.buffer_table();
  const auto& parameters = net.parameter_table();
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const auto& p = parameters[i];
    views.push_back({p.name, p.torch_shape, net.arena().as<float>(p.slot)});
    const bool module_ends = i + 1 == parameters.size() ||
                             module_of(parameters[i + 1].name) != module_of(p.name);
    if (!module_ends) continue;
    for (const auto& b : buffers)
      if (module_of(b.name) == module_of(p.name))
        views.push_back({b.name, b.torch_shape, net.arena().as<float>(b.slot)});
  }
  return views;
}

std::string non_finite_state(const NetworkBase& net) {
  std::string problem = first_non_finite_tensor(weight_views(net));
  if (problem.empty() && !non_finite_values(net.momentum()).empty())
    problem = "the optimizer's momentum " + non_finite_values(net.momentum());
  return problem;
}

std::string weights_hash(const NetworkBase& net) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& view : weight_views(net)) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(view.data);
    for (std::int64_t i = 0; i < view.size() * std::int64_t(sizeof(float)); ++i) {
      h ^= bytes[i];
      h *= 0x100000001b3ULL;
    }
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

}  // namespace normlab
