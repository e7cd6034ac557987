// Batch normalisation: per-channel statistics over (batch, height, width), a learned scale and
// shift, and running statistics for evaluation (PyTorch's momentum 0.1 and unbiased running
// variance). With a norm batch K smaller than the batch ("ghost" batch norm, what data-parallel
// training does per device), each group of K consecutive images is normalised by its own
// statistics; the gradients of scale and shift are the sum over the groups.
//
// normlab's own kernel on the channels-last buffers, chunk by chunk (chunks.hpp): each image's
// per-channel sums are kept apart and added in image order, so the statistics and gradients
// are the same bits for any thread count and any chunk size. In the fused executor the
// convolution before it computes the images' moments in its own chunk tasks, each chunk right
// after writing it (chunk_stages.hpp).
#pragma once

#include "normlab/engine/builder.hpp"
#include "normlab/engine/chunk_stages.hpp"
#include "normlab/engine/ops/dropout.hpp"
#include "normlab/engine/ops/channel_passes.hpp"

namespace normlab {

class BatchNormOp {
 public:
  struct Config {
    NormFusion fusion = {};  // the layers run inside its passes (op_list.hpp)
  };
  static constexpr float kEpsilon = 1e-5f;
  static constexpr float kMomentum = 0.1f;
  static constexpr int kMaxChannels = 1024;

  BatchNormOp(Builder& b, const Tensor& in, Config config);
  const Tensor& output() const { return out_; }
  void bind(const Arena& arena);
  void forward(const dnnl::stream& s, Pass pass, const StepKey&) const;
  void backward(const dnnl::stream& s) const;
  // Its input and output statistics at the last training forward (probes.hpp).
  NormStatistics statistics() const;

 private:
  // The images' moments of one chunk, run by the op that writes the input (the convolution
  // before) in its chunk task when the two agreed, else by forward() itself.
  class MomentChunks final : public ChunkStage {
   public:
    explicit MomentChunks(const BatchNormOp& op) : op_(op) {}
    void run_chunk(int chunk, Pass pass) const override;

   private:
    const BatchNormOp& op_;
  };
  template <int kChannels, Before kBefore>
  void chunk_moments(int chunk) const;
  MomentChunks moment_chunks_{*this};
  ChunkStages* stages_ = nullptr;
  bool moments_by_writer_ = false;  // the input's writer runs moment_chunks_
  // One image's per-channel mean and squared deviations from it (into moments[0..2C)); for
  // backward, its sums of dy and of dy * (x - group mean) (into sums[0..2C)).
  // kChannels: the channel count when compiled for it, else 0 (read at run time).
  template <int kChannels, Before kBefore>
  void image_moments(long image, double* moments) const;
  template <int kChannels, Before kBefore, After kAfter>
  void image_gradient_sums(long image, double* sums) const;
  template <int kChannels, Before kBefore, After kAfter>
  void forward_kernel(Pass pass, const StepKey& step) const;
  template <int kChannels, Before kBefore, After kAfter>
  void backward_kernel() const;
  // What the fused layer after the norm kept for image i's backward (norm_fusion.hpp).
  AfterState after_state(long image) const;
  // Per group, the images' sums at `offset` added in image order: totals[g * C + c].
  void group_totals(int offset, double* totals) const;
  int group_of(long image) const { return int(image / norm_batch_); }

  const ChunkRunner* chunks_ = nullptr;
  std::string name_;  // "bn3": its parameters' prefix
  Tensor in_, out_;
  NormFusion fusion_;
  DropoutMask dropout_;  // with After::dropout
  int channels_ = 0;
  long pixels_ = 0;         // per image
  int images_per_chunk_ = 1;
  int batch_ = 1;
  int norm_batch_ = 1;      // images per set of statistics
  int groups_ = 1;          // batch / norm batch; 1 is plain batch norm
  long reduced_count_ = 0;  // values per channel in one group
  Slot scale_, shift_, running_mean_, running_variance_;
  // Saved for backward, per group: mean, 1/std; per group the forward's (a, b) or the
  // backward's (k1, k2, k3). In the shared workspace (one pass only): per image its sums
  // (2 x channels doubles), then per group their totals.
  Slot mean_slot_, rstd_slot_, coefficients_, image_sums_;
  const float* x_ = nullptr;
  float* y_ = nullptr;
  const float* dy_ = nullptr;
  float* dx_ = nullptr;
  const float *gamma_ = nullptr, *beta_ = nullptr;
  float *gamma_grad_ = nullptr, *beta_grad_ = nullptr;
  // bf16: the copies of its output and input gradient a neighbouring convolution reads,
  // written image by image in the same passes (bf16_copies.hpp).
  Bf16Writer bf16_;
  float *mean_ = nullptr, *rstd_ = nullptr, *coefficients_ptr_ = nullptr;
  float *running_mean_ptr_ = nullptr, *running_variance_ptr_ = nullptr;
  double *image_sums_ptr_ = nullptr, *totals_ptr_ = nullptr;
};

}  // namespace normlab
