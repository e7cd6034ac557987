// Batch normalisation by oneDNN: per-channel statistics over (batch, height, width), a learned
// scale and shift, and running statistics for evaluation (PyTorch's momentum 0.1 and unbiased
// running variance).
#pragma once

#include "normlab/builder.hpp"

namespace normlab {

class BatchNormOp {
 public:
  struct Config {};
  static constexpr float kEpsilon = 1e-5f;
  static constexpr float kMomentum = 0.1f;

  BatchNormOp(Builder& b, const Tensor& in, Config);
  const Tensor& output() const { return out_; }
  void bind(const Arena& arena);
  void forward(const dnnl::stream& s, Pass pass) const;
  void backward(const dnnl::stream& s) const { backward_(s); }

 private:
  dnnl::engine engine_;
  Tensor in_, out_;
  Slot scale_, shift_, batch_mean_, batch_variance_, running_mean_, running_variance_;
  long reduced_count_ = 0;  // values per channel in one batch
  dnnl::batch_normalization_forward::primitive_desc train_pd_, eval_pd_;
  dnnl::batch_normalization_backward::primitive_desc bwd_pd_;
  Call train_, eval_, backward_;
  float *mean_ = nullptr, *variance_ = nullptr, *running_mean_ptr_ = nullptr,
        *running_variance_ptr_ = nullptr;
};

}  // namespace normlab
