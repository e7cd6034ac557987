// A network's tensors by name, for the .npy export and import and for checkpoints.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "normlab/engine/network.hpp"
#include "normlab/engine/tensor_view.hpp"

namespace normlab {

// Each layer's parameters followed by its running statistics, in declaration order (the order
// of PyTorch's state_dict for the same model). Every tensor is stored
// in PyTorch's plain layout, so the views point straight into the arena.
std::vector<TensorView> weight_views(const NetworkBase& net);

// FNV-1a over the parameters and running statistics: two runs that print the same hash ended
// with the same weights, bit for bit.
std::string weights_hash(const NetworkBase& net);

// "" when parameters, running statistics and momentum are all finite; else the first tensor
// that is not ("conv3.weight holds nan at element 5").
std::string non_finite_state(const NetworkBase& net);

}  // namespace normlab
