// The fused engine computes what the layered one does, bit for bit: a norm that runs the ReLU
// before it and the ReLU or dropout after it in its own passes (norm_fusion.hpp) applies those
// layers' arithmetic element by element. Each network and norm trains a few steps both ways;
// parameters, momentum, running statistics and evaluation logits must match exactly, and the
// fused network must be built from fewer ops in no more memory. The fused engine also runs a
// BatchNorm's statistics in the chunk tasks of the convolution before it (chunk_stages.hpp):
// with two chunks per batch, a stage that skipped a chunk or ran before its chunk was written
// changes the bits.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "normlab/engine/loss.hpp"
#include "normlab/engine/network.hpp"
#include "normlab/engine/optimizer.hpp"
#include "normlab/net/nets.hpp"

namespace normlab {
namespace {

constexpr int kClasses = 10;

struct State {
  std::vector<float> parameters, momentum, buffers, logits;
  int ops = 0;
  std::size_t arena_bytes = 0;
  int chunk_stages = 0;  // agreed pairs of writer and reader (chunk_stages.hpp)
};

std::vector<float> copy(std::span<const float> s) { return {s.begin(), s.end()}; }

// Three SGD steps on three random batches (dropout keyed per step), then an evaluation forward.
template <class Net, Executor E>
State train_steps(int batch, int norm_batch) {
  Network<Net, E> net(batch, norm_batch);
  net.initialise(11);
  std::vector<int> labels(static_cast<std::size_t>(batch));
  for (int step = 0; step < 3; ++step) {
    std::mt19937 rng(100u + unsigned(step));
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (std::size_t i = 0; i < std::size_t(batch) * Net::input.size(); ++i) net.input()[i] = u(rng);
    for (int& l : labels) l = int(rng() % kClasses);
    net.forward(Pass::train, {5, 0, step});
    softmax_cross_entropy(net.logits(), labels.data(), batch, kClasses, 0.1f, net.logits_grad(), nullptr);
    net.backward();
    sgd_step(net, {0.9f, true, 5e-4f}, 0.05f);
  }
  net.forward(Pass::eval);
  State s{copy(net.parameters()), copy(net.momentum()), copy(net.buffers()),
          {net.logits(), net.logits() + std::size_t(batch) * kClasses}};
  net.for_each_op([&](auto&) { ++s.ops; });
  s.arena_bytes = net.arena().plan().total();
  s.chunk_stages = net.chunk_stages().agreed_count();
  return s;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// 32 images are 2 chunks of 16.
template <class Net>
void expect_fused_equals_layered(int norm_batch = 0) {
  const State layered = train_steps<Net, Executor::layered>(32, norm_batch);
  const State fused = train_steps<Net, Executor::fused>(32, norm_batch);
  EXPECT_TRUE(same_bits(layered.parameters, fused.parameters)) << "parameters differ";
  EXPECT_TRUE(same_bits(layered.momentum, fused.momentum)) << "momentum differs";
  EXPECT_TRUE(same_bits(layered.buffers, fused.buffers)) << "running statistics differ";
  EXPECT_TRUE(same_bits(layered.logits, fused.logits)) << "evaluation logits differ";
  EXPECT_LT(fused.ops, layered.ops) << "nothing was fused";
  EXPECT_LE(fused.arena_bytes, layered.arena_bytes) << "fusion must not cost memory";
  EXPECT_EQ(layered.chunk_stages, 0) << "the layered reference runs each layer alone";
}

TEST(Fusion, SeedNetBatchNormFusedEqualsLayered) { expect_fused_equals_layered<SeedNet<BatchNorm>>(); }
// Each of SeedNet's eight 3x3 convolutions feeds a BatchNorm (through the ReLU the norm runs)
// and runs the norm's statistics in its forward's chunk tasks.
TEST(Fusion, SeedNetBatchNormStatisticsRunInTheConvolutionsChunks) {
  EXPECT_EQ((train_steps<SeedNet<BatchNorm>, Executor::fused>(32, 0).chunk_stages), 8);
}
TEST(Fusion, SeedNetGhostBatchNormFusedEqualsLayered) {
  expect_fused_equals_layered<SeedNet<BatchNorm>>(/*norm_batch=*/8);
}
TEST(Fusion, SeedNetGroupNormFusedEqualsLayered) { expect_fused_equals_layered<SeedNet<SeedGroupNorm>>(); }
TEST(Fusion, SeedNetLayerNormFusedEqualsLayered) { expect_fused_equals_layered<SeedNet<LayerNorm>>(); }
TEST(Fusion, S8NetBatchNormFusedEqualsLayered) { expect_fused_equals_layered<S8Net<BatchNorm>>(); }
TEST(Fusion, S8NetGroupNormFusedEqualsLayered) { expect_fused_equals_layered<S8Net<SeedGroupNorm>>(); }
TEST(Fusion, S8NetLayerNormFusedEqualsLayered) { expect_fused_equals_layered<S8Net<LayerNorm>>(); }
TEST(Fusion, SeedNetInstanceNormFusedEqualsLayered) { expect_fused_equals_layered<SeedNet<InstanceNorm>>(); }
TEST(Fusion, S8NetInstanceNormFusedEqualsLayered) { expect_fused_equals_layered<S8Net<InstanceNorm>>(); }

// The fusions one at a time, on a chain small enough to tell them apart: ReLU before a norm,
// dropout after one, ReLU after one, and a norm alone.
using EveryFusion = Chain<Input<3, 8, 8>, Conv3x3<16>, Relu, BatchNorm, Dropout<20>,  //
                          Conv3x3<16>, GroupNorm<4>, Relu,                           //
                          Conv1x1<16>, Relu, LayerNorm, Relu,                        //
                          Conv1x1<16>, BatchNorm, GlobalAvgPool, Conv1x1<10>>;
TEST(Fusion, EachFusionEqualsItsLayers) {
  expect_fused_equals_layered<EveryFusion>();
  const State fused = train_steps<EveryFusion, Executor::fused>(32, 0);
  EXPECT_EQ(fused.ops, 10);  // conv, [relu bn drop], conv, [gn relu], conv, [relu ln relu], conv, bn, gap, conv
  EXPECT_EQ(fused.chunk_stages, 2);  // the two convolutions before a BatchNorm
}

}  // namespace
}  // namespace normlab
