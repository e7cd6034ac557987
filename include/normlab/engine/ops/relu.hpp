// ReLU, forward and backward by oneDNN's eltwise primitives, in place unless its input is read
// again (see Builder::in_place_output).
#pragma once

#include "normlab/engine/builder.hpp"

namespace normlab {

class ReluOp {
 public:
  struct Config {};
  ReluOp(Builder& b, const Tensor& in, Config);
  const Tensor& output() const { return out_; }
  void bind(const Arena& arena);
  void forward(const dnnl::stream& s, Pass, const StepKey&) const { forward_(s); }
  void backward(const dnnl::stream& s) const { backward_(s); }

 private:
  dnnl::engine engine_;
  Tensor in_, out_;
  dnnl::eltwise_forward::primitive_desc fwd_pd_;
  dnnl::eltwise_backward::primitive_desc bwd_pd_;
  Call forward_, backward_;
};

}  // namespace normlab
