// Batch normalisation by oneDNN: per-channel statistics over (batch, height, width), a learned
// scale and shift, and running statistics for evaluation (PyTorch's momentum 0.1 and unbiased
// running variance). With a norm batch K smaller than the batch ("ghost" batch norm, what
// data-parallel training does per device), each group of K consecutive images is normalised by
// its own statistics; the gradients of scale and shift are the sum over the groups.
#pragma once

#include <vector>

#include "normlab/engine/builder.hpp"

namespace normlab {

class BatchNormOp {
 public:
  struct Config {};
  static constexpr float kEpsilon = 1e-5f;
  static constexpr float kMomentum = 0.1f;

  BatchNormOp(Builder& b, const Tensor& in, Config);
  const Tensor& output() const { return out_; }
  void bind(const Arena& arena);
  void forward(const dnnl::stream& s, Pass pass, const StepKey&) const;
  void backward(const dnnl::stream& s) const;

 private:
  dnnl::engine engine_;
  Tensor in_, out_;
  int groups_ = 1;               // batch / norm batch; 1 is plain batch norm
  dnnl::memory::desc group_md_;  // one group's images (the whole batch's md when groups_ == 1)
  // batch_mean_ and batch_variance_ hold one set of statistics per group, group after group.
  Slot scale_, shift_, batch_mean_, batch_variance_, running_mean_, running_variance_;
  // The scale and shift gradients of groups after the first, before they are summed.
  Slot group_diff_scale_, group_diff_shift_;
  long reduced_count_ = 0;  // values per channel in one group
  dnnl::batch_normalization_forward::primitive_desc train_pd_, eval_pd_;
  dnnl::batch_normalization_backward::primitive_desc bwd_pd_;
  // One call per group; backward_ stays empty when no gradient flows into the input.
  std::vector<Call> train_, backward_;
  Call eval_;  // with the running statistics: the whole batch in one call
  float *mean_ = nullptr, *variance_ = nullptr, *running_mean_ptr_ = nullptr,
        *running_variance_ptr_ = nullptr;
  float *diff_scale_ = nullptr, *diff_shift_ = nullptr, *group_diff_scale_ptr_ = nullptr,
        *group_diff_shift_ptr_ = nullptr;
};

}  // namespace normlab
