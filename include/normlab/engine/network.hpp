// A network built for one batch size: its ops, their primitives and the one arena that holds
// every byte they touch. Network<SeedNet<BatchNorm>> net(128); then per step: fill input(),
// forward(), write logits_grad(), backward(), update parameters(). Nothing here allocates
// after construction.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "normlab/engine/builder.hpp"
#include "normlab/engine/init_scheme.hpp"
#include "normlab/engine/op_list.hpp"

namespace normlab {

// What does not depend on the network's type: engine, arena, parameter tables, weights I/O.
class NetworkBase {
 public:
  NetworkBase(const NetworkBase&) = delete;
  NetworkBase& operator=(const NetworkBase&) = delete;
  virtual ~NetworkBase() = default;

  // Run-time dispatch point for code that serves every network (the trainer, the CLI).
  // `step` keys the step's randomness (dropout's masks); evaluation draws none.
  virtual void forward(Pass pass, const StepKey& step = {}) const = 0;
  virtual void backward() const = 0;
  virtual Executor executor() const = 0;

  int batch() const { return batch_; }
  const dnnl::stream& stream() const { return stream_; }
  const Arena& arena() const { return arena_; }

  float* input() const { return arena_.as<float>(planar_input_.value); }  // batch x 3 x H x W, NCHW
  const float* logits() const { return arena_.as<float>(logits_.value); }  // batch x classes
  float* logits_grad() const { return arena_.as<float>(logits_.grad); }
  int classes() const { return logits_.shape.c; }

  // The optimizer's view: parameters, gradients and momentum as three parallel flat blocks.
  std::span<float> parameters() const { return region(Region::parameters); }
  std::span<float> gradients() const { return region(Region::gradients); }
  std::span<float> momentum() const { return region(Region::momentum); }
  std::span<float> buffers() const { return region(Region::buffers); }
  const std::vector<ParameterInfo>& parameter_table() const { return parameters_; }
  const std::vector<ParameterInfo>& buffer_table() const { return buffers_; }
  long parameter_count() const;

  // The convolutions' weights drawn by the scheme (PyTorch's default or He's) from the
  // counter-based generator keyed by the seed; norm scales 1, shifts 0.
  void initialise(std::uint64_t seed, InitScheme scheme = InitScheme::pytorch_default);
  // Diagnostics (probes.hpp): each norm's statistics at the last training forward, and, when
  // set to sample, the gradient norms the next backward records.
  virtual std::vector<NormStatistics> norm_statistics() const = 0;
  GradientProbes& gradient_probes() { return probes_; }
  const GradientProbes& gradient_probes() const { return probes_; }
  // bf16: which copies the ops around the convolutions write (bf16_copies.hpp).
  const Bf16Copies& bf16_copies() const { return builder_.bf16_copies(); }
  // Which ops run a neighbour's work in their chunk tasks (chunk_stages.hpp).
  const ChunkStages& chunk_stages() const { return builder_.chunk_stages(); }
  // A tensor in PyTorch's layout (OIHW for conv weights), and back into the arena's layout.
  std::vector<float> read(const ParameterInfo& p) const;
  void write(const ParameterInfo& p, std::span<const float> torch_layout);

 protected:
  NetworkBase(int batch, int norm_batch, int groups, ConvOptions conv, Shape input, Executor executor);
  void finish(const Tensor& logits);  // allocate the arena; the caller binds its ops after
  // The batch arrives planar (NCHW); the first convolution is fast only on channels-last.
  void convert_input() const { input_to_channels_last_(stream_); }

  dnnl::engine engine_;
  dnnl::stream stream_;
  Arena arena_;
  ChunkRunner chunks_;
  GradientProbes probes_;
  Builder builder_;
  Tensor planar_input_, input_, logits_;
  Call input_to_channels_last_;
  int batch_;

 private:
  std::span<float> region(Region r) const;
  std::vector<ParameterInfo> parameters_, buffers_;
};

// E: fused (the default) or layered, one op per layer (op_list.hpp); both give the same bits.
template <class Net, Executor E = Executor::fused>
class Network : public NetworkBase {
 public:

  // norm_batch: BatchNorm's statistics over each group of that many consecutive images
  // ("ghost" batch norm); 0, the default, means the whole batch. It must divide the batch.
  // conv: the convolutions' algorithm and precision (conv_options.hpp).
  // groups: for GroupNorm declared with kGroupsOfTheRun (the seed's 4 unless given).
  explicit Network(int batch, int norm_batch = 0, ConvOptions conv = {}, int groups = kSeedGroups)
      : NetworkBase(batch, norm_batch, groups, conv, Net::input, E), ops_(builder_, input_) {
    finish(ops_.output());
    ops_.bind(arena_);
  }

  void forward(Pass pass, const StepKey& step = {}) const override {
    convert_input();
    ops_.forward(stream_, pass, step);
  }
  void backward() const override { ops_.backward(stream_); }
  Executor executor() const override { return E; }

  // The top-level ops, in order (one per layer when layered: the per-layer benchmarks).
  template <class F>
  void for_each_op(F&& f) { ops_.for_each(f); }

  std::vector<NormStatistics> norm_statistics() const override {
    std::vector<NormStatistics> all;
    ops_.for_each_deep([&](const auto& op) {
      if constexpr (requires { op.statistics(); }) all.push_back(op.statistics());
    });
    return all;
  }

 private:
  OpList<typename Net::Layers, E> ops_;
};

}  // namespace normlab
