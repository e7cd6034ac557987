// What flows between layers: an activation (shape, layout, value and gradient slots), the pass
// it is computed for, and the key of the step it belongs to.
#pragma once

#include <cstdint>

#include <oneapi/dnnl/dnnl.hpp>

#include "normlab/engine/arena.hpp"
#include "normlab/net/shape.hpp"

namespace normlab {

// Training runs dropout and batch statistics; evaluation uses running statistics.
enum class Pass { train, eval };

// One activation flowing between layers: its shape, layout and where it lives.
struct Tensor {
  Shape shape;
  dnnl::memory::desc md;  // batch x shape, in the layout the layers agree on
  Slot value;             // in Region::activations
  Slot grad;              // in Region::activation_gradients; invalid when no gradient flows
  // The value is read again after the next layer has run (by a skip connection, or by the
  // backward of the layer that wrote it), so no layer may overwrite it in place.
  bool read_again = false;
  // Which values these are (Builder): a layer that rewrites a buffer in place, or sums into
  // it, hands on a new id, so what was derived from the old values (bf16_copies.hpp) is not
  // taken for the new ones.
  int value_id = -1, grad_id = -1;
  bool has_grad() const { return grad.valid(); }
};

// Which step this is, for randomness keyed by (seed, epoch, step): dropout's masks. Passed to
// every forward, so a step's randomness never depends on state hidden in the network.
struct StepKey {
  std::uint64_t seed = 0;
  std::int64_t epoch = 0;
  std::int64_t step = 0;
};

}  // namespace normlab
