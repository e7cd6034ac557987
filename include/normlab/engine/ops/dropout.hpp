// Inverted dropout: training keeps each value with probability 1-p and scales it by 1/(1-p);
// evaluation passes values through. It runs in place unless its input is read again. The mask
// is drawn from the counter-based generator keyed by (seed, epoch, step, layer, element), so it
// is the same whatever the thread count, and whichever pass draws it (DropoutOp, or a norm
// that runs the dropout after it in its own pass, norm_fusion.hpp).
#pragma once

#include <cstdint>

#include "normlab/engine/builder.hpp"

namespace normlab {

// One dropout layer's mask: one byte per element of its tensor, kept for the backward.
class DropoutMask {
 public:
  DropoutMask() = default;
  // Reserves the mask and takes the layer's number among the dropouts ("dropout1", ...).
  DropoutMask(Builder& b, long count, float probability);
  void bind(const Arena& arena);

  // Draws the step's keep decisions for elements [begin, end) into the mask.
  void draw(const StepKey& step, long begin, long end) const;
  void keep_all() const;  // evaluation, or p = 0
  const std::uint8_t* keep() const { return mask_; }
  float probability() const { return probability_; }
  float scale() const { return probability_ == 0.f ? 1.f : 1.f / (1.f - probability_); }

 private:
  Slot slot_;
  long count_ = 0;
  float probability_ = 0.f;
  int layer_id_ = 0;
  std::uint8_t* mask_ = nullptr;
};

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
  DropoutMask mask_;
  long count_ = 0;
  const float* x_ = nullptr;
  float* y_ = nullptr;
  const float* dy_ = nullptr;
  float* dx_ = nullptr;
};

}  // namespace normlab
