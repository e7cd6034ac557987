// Pooling, normlab's own kernels on the channels-last buffers, chunk by chunk (chunks.hpp):
// 2x2 max pooling with stride 2 (the window's first largest value wins, as in PyTorch and
// oneDNN; its position is saved for backward as one byte per output) and global average
// pooling. Each image is independent. The max pool's backward writes every input gradient
// exactly once (the routed value or zero), so there is no separate zeroing pass.
#pragma once

#include <cstdint>

#include "normlab/engine/builder.hpp"

namespace normlab {

class PoolOp {
 public:
  struct Config {
    bool max;  // max pooling with kernel 2, stride 2; else global average
  };

  PoolOp(Builder& b, const Tensor& in, Config config);
  const Tensor& output() const { return out_; }
  void bind(const Arena& arena);
  void forward(const dnnl::stream&, Pass, const StepKey&) const;
  void backward(const dnnl::stream&) const;

 private:
  void max_forward(long image) const;
  void max_backward(long image) const;
  void average_forward(long image) const;
  void average_backward(long image) const;

  const ChunkRunner* chunks_ = nullptr;
  Tensor in_, out_;
  bool max_ = true;
  int channels_ = 0, h_ = 0, w_ = 0, out_h_ = 0, out_w_ = 0, images_per_chunk_ = 1;
  Slot argmax_slot_;  // max pooling: which of the window's four values won, per output
  std::uint8_t* argmax_ = nullptr;
  const float* x_ = nullptr;
  float* y_ = nullptr;
  const float* dy_ = nullptr;
  float* dx_ = nullptr;
  Bf16Writer bf16_;  // bf16: the copies a neighbouring convolution reads (bf16_copies.hpp)
};

}  // namespace normlab
