#include "normlab/weights.hpp"

#include <cstdio>

namespace normlab {

std::vector<TensorView> weight_views(const NetworkBase& net) {
  std::vector<TensorView> views;
  for (const auto* table : {&net.parameter_table(), &net.buffer_table()})
    for (const auto& p : *table)
      views.push_back({p.name, p.torch_shape, net.arena().as<float>(p.slot)});
  return views;
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
