// A named float tensor living in memory someone else owns (normally the arena): what the
// weight export, import and checkpoints read and write.
#pragma once

#include <cstdint>
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

}  // namespace normlab
