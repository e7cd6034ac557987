// Inverted dropout: training keeps each value with probability 1-p and scales it by 1/(1-p);
// evaluation passes values through. It runs in place unless its input is read again. The mask
// is drawn from the counter-based generator keyed by (seed, epoch, step, layer, element), so it
// is the same whatever the thread count.
#pragma once

#include "normlab/engine/builder.hpp"

namespace normlab {

class DropoutOp {
 public:
  struct Config {
    float probability;
  };
  DropoutOp(Builder& b, const Tensor& in, Config config);
  const Tensor& output() const { return out_; }
  void bind(const Arena& arena);
  void forward(const dnnl::stream&, Pass pass, const StepKey& step) const;
  void backward(const dnnl::stream&) const;

 private:
  Tensor in_, out_;
  Slot mask_slot_;
  float probability_;
  int layer_id_;
  long count_ = 0;
  const float* x_ = nullptr;
  float* y_ = nullptr;
  const float* dy_ = nullptr;
  float* dx_ = nullptr;
  std::uint8_t* mask_ = nullptr;
};

}  // namespace normlab
