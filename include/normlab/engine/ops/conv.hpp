// Convolution without bias (3x3 with padding 1, or 1x1), stride 1: oneDNN forward, backward
// data and backward weights. Weights live in PyTorch's plain OIHW order; each primitive gets
// them reordered into the blocked layout its fastest kernel wants (the tensors are tiny, the
// reorders cost microseconds, and a shared layout would force a slow reference kernel).
// The primitives run per chunk of the batch (chunks.hpp), created for one thread; each chunk
// writes a weight gradient of its own, and those are summed in chunk order.
// With ConvMode::winograd, the 3x3 layers whose shape is in winograd_pays run oneDNN's
// Winograd kernels, which take only blocked (nChw16c) activations: those layers copy their
// input and output gradient into that layout and their output and input gradient back. With
// Precision::bf16 every layer copies its input and output gradient to bf16, reorders the
// weights to bf16 as it already reorders them to the kernel's layout, and gets f32 results.
// With ConvMode::normlab, the forward and backward-data passes of the 3x3 layers that
// normlab's own kernels take (conv3x3_kernels.hpp) run those, on the network's own buffers,
// from weights repacked each step; the weight gradient stays oneDNN's.
// In the fused executor the op that reads its output (a BatchNorm) computes its statistics in
// the forward's chunk tasks, each chunk right after it is written (chunk_stages.hpp).
#pragma once

#include <vector>

#include "normlab/engine/builder.hpp"
#include "normlab/engine/chunk_stages.hpp"
#include "normlab/engine/conv3x3_kernels.hpp"

namespace normlab {

class ConvOp {
 public:
  struct Config {
    int out_channels;
    int kernel;  // 1 or 3; padding is kernel / 2
    // Weight standardisation (Qiao et al. 2019): the primitives see each output channel's
    // weights shifted to zero mean and scaled to unit variance, and the gradient flows back
    // through that map. It smooths the loss landscape where batch statistics are missing.
    bool standardize = false;
  };
  static constexpr float kStandardizeEpsilon = 1e-5f;

  // Whether Winograd beat the direct kernels for this layer inside the training step, layout
  // copies included (measured; the figures are beside the table in conv.cpp).
  static bool winograd_pays(const Shape& in, int out_channels);
  // Whether oneDNN 2.6's Winograd kernel takes the layer: 3x3, both channel counts multiples of 16.
  static bool winograd_supported(const Shape& in, int out_channels, int kernel);

  ConvOp(Builder& b, const Tensor& in, Config config);
  const Tensor& output() const { return out_; }
  bool uses_winograd() const { return winograd_; }
  // Whether normlab's own kernels run this layer's forward / backward-data pass.
  bool uses_own_forward() const { return own_forward_; }
  bool uses_own_backward_data() const { return own_backward_data_; }
  // Whether oneDNN computes the input gradient (the layer has one, and its own kernel does not).
  bool onednn_backward_data() const { return in_.has_grad() && !own_backward_data_; }
  void bind(const Arena& arena);
  void forward(const dnnl::stream& s, Pass, const StepKey&) const;
  void backward(const dnnl::stream& s) const;

 private:
  // The weights (or their gradient) as one primitive wants them; a copy only if the layout differs.
  struct WeightsView {
    dnnl::memory::desc md;
    Slot copy;  // invalid when md is the plain layout
  };
  WeightsView view_for(Builder& b, const dnnl::memory::desc& wanted) const;

  dnnl::engine engine_;
  const ChunkRunner* chunks_ = nullptr;
  Tensor in_, out_;
  ChunkStages* stages_ = nullptr;
  const ChunkStage* after_forward_chunk_ = nullptr;  // the reader's work on each output chunk
  // The activations as the kernels read and write them (see the constructor): where one
  // differs from the network's own buffer, the layer copies through in_copy_ or out_copy_.
  bool winograd_ = false;
  dnnl::memory::desc in_chunk_md_, out_chunk_md_;  // one chunk of the network's own buffers
  dnnl::memory::desc src_md_, dst_md_, diff_src_md_, diff_dst_md_;
  Slot in_copy_, out_copy_;
  // bf16: whether the ops around it write those copies themselves (bf16_copies.hpp).
  const Bf16Copies* bf16_copies_ = nullptr;
  // normlab's own kernels: the problem, the repacked weights, and the buffers they work on.
  bool own_forward_ = false, own_backward_data_ = false;
  conv3x3::Problem problem_{};
  Slot packed_forward_, packed_backward_data_;
  float* packed_forward_ptr_ = nullptr;
  float* packed_backward_data_ptr_ = nullptr;
  const float* in_ptr_ = nullptr;
  float* out_ptr_ = nullptr;
  const float* out_grad_ptr_ = nullptr;
  float* in_grad_ptr_ = nullptr;
  // One call per chunk (empty where that copy is not needed).
  std::vector<Call> in_to_copy_, copy_to_out_, grad_to_copy_, copy_to_in_grad_;
  Slot weights_;
  Slot standardized_, inverse_std_;  // only with config.standardize
  long out_channels_ = 0, fan_in_ = 0;
  float* weights_ptr_ = nullptr;
  float* weight_grads_ptr_ = nullptr;
  float* standardized_ptr_ = nullptr;
  float* inverse_std_ptr_ = nullptr;
  // The weights the kernels read: the standardised copy when there is one.
  const float* primitive_weights() const {
    return standardized_ptr_ != nullptr ? standardized_ptr_ : weights_ptr_;
  }
  void standardize_weights() const;
  // At a sampled step, the norm of the input gradient into the network's probes (probes.hpp).
  void record_input_gradient_norm() const;
  GradientProbes* probes_ = nullptr;
  int probe_ = -1;  // this layer's slot, or -1 without an input gradient
  const float* input_gradient_ = nullptr;
  long input_gradient_count_ = 0;
  void standardize_gradient() const;
  // Sums the chunks' weight gradients in chunk order, into the gradient (plain layout) or into
  // chunk 0's buffer (which grad_to_plain_ then reorders).
  void sum_chunk_gradients() const;
  dnnl::memory::desc plain_md_;
  WeightsView fwd_weights_, bwd_data_weights_;
  // Each chunk's weight gradient, in the layout backward-weights writes (grads_md_).
  dnnl::memory::desc grads_md_;
  Slot chunk_grads_;
  float* chunk_grads_ptr_ = nullptr;
  dnnl::convolution_forward::primitive_desc fwd_pd_;
  dnnl::convolution_backward_data::primitive_desc bwd_data_pd_;
  dnnl::convolution_backward_weights::primitive_desc bwd_weights_pd_;
  Call to_fwd_layout_, to_bwd_data_layout_, grad_to_plain_;  // once per step
  std::vector<Call> forward_, backward_data_, backward_weights_;  // per chunk
};

}  // namespace normlab
