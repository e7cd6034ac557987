// Pooling by oneDNN: 2x2 max pooling (stride 2, with a workspace of argmax positions for
// backward) and global average pooling (one kernel over the whole image).
#pragma once

#include "normlab/engine/builder.hpp"

namespace normlab {

class PoolOp {
 public:
  struct Config {
    bool max;    // max pooling with kernel 2, stride 2; else global average
  };
  PoolOp(Builder& b, const Tensor& in, Config config);
  const Tensor& output() const { return out_; }
  void bind(const Arena& arena);
  void forward(const dnnl::stream& s, Pass, const StepKey&) const { forward_(s); }
  void backward(const dnnl::stream& s) const { backward_(s); }

 private:
  dnnl::engine engine_;
  Tensor in_, out_;
  Slot workspace_;
  dnnl::pooling_forward::primitive_desc fwd_pd_;
  dnnl::pooling_backward::primitive_desc bwd_pd_;
  Call forward_, backward_;
};

}  // namespace normlab
