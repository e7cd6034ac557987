// A named float tensor living in memory someone else owns (normally the arena): what the
// weight export, import and checkpoints read and write.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace normlab {

struct TensorView {
  std::string name;              // e.g. "c1.weight", "bn1.running_mean"
  std::vector<std::int64_t> shape;  // PyTorch's order (OIHW for conv weights)
  float* data = nullptr;

  std::int64_t size() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

// "" when every value is finite, else what is not, naming the first element:
// "holds nan at element 17". A diverged run and a damaged file both show up here.
inline std::string non_finite_values(std::span<const float> values) {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      return std::string("holds ") + (std::isnan(values[i]) ? "nan" : values[i] > 0 ? "+inf" : "-inf") +
             " at element " + std::to_string(i);
  return "";
}

// The first tensor with a non-finite value, as "conv1.weight holds nan at element 17"; "" if none.
inline std::string first_non_finite_tensor(std::span<const TensorView> tensors) {
  for (const TensorView& t : tensors) {
    const std::string problem = non_finite_values({t.data, std::size_t(t.size())});
    if (!problem.empty()) return t.name + " " + problem;
  }
  return "";
}

}  // namespace normlab
