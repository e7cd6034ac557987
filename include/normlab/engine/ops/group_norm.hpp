// Group normalisation (LayerNorm is the one-group case, InstanceNorm one channel per group), computed directly on the channels-last
// activation. oneDNN 2.6 has no group-norm primitive; running its layer normalisation over an
// (N*G, C/G*H*W) view needs the activation reordered to NCHW and back on every pass, and its
// backward is a generic kernel, which together cost a third of a GroupNorm training step. Here
// each sample's H*W x C block is one small, cache-resident problem: per-channel sums, then
// per-group statistics, then one fused scale-and-shift pass (two passes back).
#pragma once

#include "normlab/engine/builder.hpp"
#include "normlab/engine/ops/channel_passes.hpp"
#include "normlab/engine/ops/dropout.hpp"

namespace normlab {

class GroupNormOp {
 public:
  struct Config {
    int groups;        // G, kGroupsOfTheRun (the builder's) or kOneChannelPerGroup
    const char* name;  // "gn", "ln" or "in"
    NormFusion fusion = {};  // the layers run inside its passes (op_list.hpp)
  };
  static constexpr int kOneChannelPerGroup = -1;  // InstanceNorm
  static constexpr float kEpsilon = 1e-5f;
  static constexpr int kMaxChannels = 1024;  // per-sample sums live on the stack

  GroupNormOp(Builder& b, const Tensor& in, Config config);
  const Tensor& output() const { return out_; }
  void bind(const Arena& arena);
  void forward(const dnnl::stream& s, Pass pass, const StepKey& step) const;
  void backward(const dnnl::stream& s) const;
  // Its input and output statistics at the last training forward (probes.hpp).
  NormStatistics statistics() const;

 private:
  template <int kChannels, Before kBefore, After kAfter>
  void forward_kernel(const StepKey& step) const;
  template <int kChannels, Before kBefore, After kAfter>
  void backward_kernel() const;
  // What the fused layer after the norm kept for sample n's backward (norm_fusion.hpp).
  AfterState after_state(long sample) const;

  std::string name_;  // "bn3": its parameters' prefix
  Tensor in_, out_;
  NormFusion fusion_;
  DropoutMask dropout_;  // with After::dropout
  int batch_ = 0, groups_ = 0, channels_ = 0;
  long pixels_ = 0;  // H * W
  Slot scale_, shift_, mean_slot_, rstd_slot_, partial_sums_;
  // Resolved pointers for the loops.
  const float* x_ = nullptr;
  float* y_ = nullptr;
  const float* gamma_ = nullptr;
  const float* beta_ = nullptr;
  float* mean_ = nullptr;  // per (sample, group)
  float* rstd_ = nullptr;  // 1 / sqrt(variance + epsilon), per (sample, group)
  const float* dy_ = nullptr;
  float* dx_ = nullptr;
  float *gamma_grad_ = nullptr, *beta_grad_ = nullptr;
  // bf16: the copies of its output and input gradient a neighbouring convolution reads,
  // written image by image in the same passes (bf16_copies.hpp).
  Bf16Writer bf16_;
  float* partial_ = nullptr;  // per (sample, channel): sum of dy * xhat, sum of dy
};

}  // namespace normlab
