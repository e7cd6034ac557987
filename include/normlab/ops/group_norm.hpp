// Group normalisation (LayerNorm is the one-group case). oneDNN 2.6 has no group-norm
// primitive, so: reorder the channels-last activation to NCHW, where each (sample, group) is one
// contiguous row of C/G*H*W values; run oneDNN's layer normalisation over those N*G rows; then
// apply the per-channel scale and shift while writing back channels-last. Backward mirrors it.
#pragma once

#include "normlab/builder.hpp"

namespace normlab {

class GroupNormOp {
 public:
  struct Config {
    int groups;
    const char* name;  // "gn" or "ln"
  };
  static constexpr float kEpsilon = 1e-5f;

  GroupNormOp(Builder& b, const Tensor& in, Config config);
  const Tensor& output() const { return out_; }
  void bind(const Arena& arena);
  void forward(const dnnl::stream& s, Pass) const;
  void backward(const dnnl::stream& s) const;

 private:
  dnnl::engine engine_;
  Tensor in_, out_;
  int batch_ = 0, groups_ = 0;
  dnnl::memory::desc planar_md_;  // N, C, H, W in NCHW order
  dnnl::memory::desc rows_md_;    // the same bytes as (N*G) rows
  Slot scale_, shift_, planar_x_, normalised_, planar_grad_, mean_, variance_, partial_sums_;
  dnnl::layer_normalization_forward::primitive_desc fwd_pd_;
  dnnl::layer_normalization_backward::primitive_desc bwd_pd_;
  Call to_planar_, normalise_, grad_to_planar_, normalise_backward_, grad_to_channels_last_;
  // Resolved pointers for the per-channel loops.
  const float* gamma_ = nullptr;
  const float* beta_ = nullptr;
  float *gamma_grad_ = nullptr, *beta_grad_ = nullptr;
  float* xhat_ = nullptr;
  float* y_ = nullptr;
  float* planar_grad_ptr_ = nullptr;
  float* partial_ = nullptr;
};

}  // namespace normlab
