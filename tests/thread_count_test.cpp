// The same bits for any thread count: a batch runs as fixed chunks of images (chunks.hpp),
// threads only choose which chunk runs where, and every sum over the batch is taken in chunk
// (or image) order. Each network and norm trains a few steps with 1, 2, 3 and 4 threads; the
// parameters, momentum, running statistics and logits must match bit for bit.
#include <gtest/gtest.h>

#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <omp.h>

#include "normlab/engine/loss.hpp"
#include "normlab/engine/network.hpp"
#include "normlab/engine/optimizer.hpp"
#include "normlab/net/nets.hpp"

namespace normlab {
namespace {

constexpr int kClasses = 10;

struct State {
  std::vector<float> parameters, momentum, buffers, logits;
};

std::vector<float> copy(std::span<const float> s) { return {s.begin(), s.end()}; }

template <class Net>
void fill_batch(Network<Net>& net, std::vector<int>& labels, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const std::size_t n = std::size_t(net.batch()) * Net::input.size();
  for (std::size_t i = 0; i < n; ++i) net.input()[i] = u(rng);
  labels.resize(std::size_t(net.batch()));
  for (int& l : labels) l = int(rng() % kClasses);
}

// Three SGD steps on three batches (dropout keyed per step), then an evaluation forward.
template <class Net>
State train_steps(int threads, int batch, int norm_batch, ConvOptions conv = {}) {
  omp_set_num_threads(threads);
  Network<Net> net(batch, norm_batch, conv);
  net.initialise(11);
  std::vector<int> labels;
  for (int step = 0; step < 3; ++step) {
    fill_batch(net, labels, 100u + unsigned(step));
    net.forward(Pass::train, {5, 0, step});
    softmax_cross_entropy(net.logits(), labels.data(), batch, kClasses, 0.1f, net.logits_grad(), nullptr);
    net.backward();
    sgd_step(net, {0.9f, true, 5e-4f}, 0.05f);
  }
  net.forward(Pass::eval);
  const float* logits = net.logits();
  return {copy(net.parameters()), copy(net.momentum()), copy(net.buffers()),
          {logits, logits + std::size_t(batch) * kClasses}};
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// 64 images are 4 chunks of 16: with 3 threads one thread runs two chunks, with 4 each one.
// kNormBatch: BatchNorm's statistics per group of that many images (0: the whole batch).
template <class Net, int kNormBatch = 0>
void expect_same_bits_for_any_thread_count_with(ConvOptions conv) {
  const int saved = omp_get_max_threads();
  const State one = train_steps<Net>(1, 64, kNormBatch, conv);
  for (const int threads : {2, 3, 4}) {
    SCOPED_TRACE(std::to_string(threads) + " threads against 1");
    const State other = train_steps<Net>(threads, 64, kNormBatch, conv);
    EXPECT_TRUE(same_bits(one.parameters, other.parameters)) << "parameters differ";
    EXPECT_TRUE(same_bits(one.momentum, other.momentum)) << "momentum differs";
    EXPECT_TRUE(same_bits(one.buffers, other.buffers)) << "running statistics differ";
    EXPECT_TRUE(same_bits(one.logits, other.logits)) << "evaluation logits differ";
  }
  omp_set_num_threads(saved);
}

template <class Net, int kNormBatch = 0>
void expect_same_bits_for_any_thread_count() {
  expect_same_bits_for_any_thread_count_with<Net, kNormBatch>({});
}

// Each network and norm, named for the test, with the check compiled for it.
struct TrainedNet {
  const char* name;
  void (*expect_same_bits)();
};

void PrintTo(const TrainedNet& net, std::ostream* out) { *out << net.name; }

const TrainedNet kTrainedNets[] = {
    {"SeedNetBatchNorm", expect_same_bits_for_any_thread_count<SeedNet<BatchNorm>>},
    {"SeedNetGhostBatchNorm", expect_same_bits_for_any_thread_count<SeedNet<BatchNorm>, 8>},
    {"SeedNetGroupNorm", expect_same_bits_for_any_thread_count<SeedNet<SeedGroupNorm>>},
    {"SeedNetLayerNorm", expect_same_bits_for_any_thread_count<SeedNet<LayerNorm>>},
    {"SeedNetInstanceNorm", expect_same_bits_for_any_thread_count<SeedNet<InstanceNorm>>},
    {"SeedNetWithoutNorms", expect_same_bits_for_any_thread_count<SeedNet<NoNorm>>},
    {"S8NetBatchNorm", expect_same_bits_for_any_thread_count<S8Net<BatchNorm>>},
    {"S8NetGroupNorm", expect_same_bits_for_any_thread_count<S8Net<SeedGroupNorm>>},
    {"S8NetLayerNorm", expect_same_bits_for_any_thread_count<S8Net<LayerNorm>>},
    {"S8NetInstanceNorm", expect_same_bits_for_any_thread_count<S8Net<InstanceNorm>>},
    {"S8NetWithoutNorms", expect_same_bits_for_any_thread_count<S8Net<NoNorm>>},
};

class ThreadCount : public ::testing::TestWithParam<TrainedNet> {};

TEST_P(ThreadCount, GivesTheSameBitsForOneToFourThreads) { GetParam().expect_same_bits(); }

INSTANTIATE_TEST_SUITE_P(EveryNetAndNorm, ThreadCount, ::testing::ValuesIn(kTrainedNets),
                         [](const auto& info) { return std::string(info.param.name); });

// normlab's own 3x3 kernels (--conv normlab) sum each output on one thread in a fixed order,
// so that mode too gives the same bits for any thread count.
TEST(ThreadCountNormlabKernels, GiveTheSameBitsForOneToFourThreads) {
  if (!normlab_conv_kernels_built()) GTEST_SKIP() << "this build has no AVX-512: no own kernels";
  expect_same_bits_for_any_thread_count_with<SeedNet<BatchNorm>>({ConvMode::normlab});
  expect_same_bits_for_any_thread_count_with<S8Net<SeedGroupNorm>>({ConvMode::normlab});
}

// The weight gradient of a batch is its chunks' gradients added in chunk order,
// ((g0 + g1) + g2) + g3, bit for bit: each chunk run alone as a network of one chunk gives
// g_k. A sum in another order, or one that drops a chunk, fails here.
using ConvOnly = Chain<Input<3, 8, 8>, Conv3x3<16>, Relu, Conv1x1<16>, GlobalAvgPool, Conv1x1<10>>;

TEST(ChunkOrder, WeightGradientsAreTheChunksGradientsAddedInChunkOrder) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  constexpr int kChunk = ChunkPlan::kMaxImages, kChunks = 4;
  Network<ConvOnly> whole(kChunk * kChunks);
  ASSERT_EQ(whole.batch(), kChunk * kChunks);
  whole.initialise(3);
  std::vector<int> labels;
  fill_batch(whole, labels, 9);
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> logits_grad(std::size_t(whole.batch()) * kClasses);
  for (float& g : logits_grad) g = u(rng);
  whole.forward(Pass::train);
  std::copy(logits_grad.begin(), logits_grad.end(), whole.logits_grad());
  whole.backward();

  std::vector<float> sum;
  const std::size_t image = ConvOnly::input.size();
  for (int k = 0; k < kChunks; ++k) {
    Network<ConvOnly> part(kChunk);
    part.initialise(3);
    std::copy(whole.input() + k * kChunk * image, whole.input() + (k + 1) * kChunk * image, part.input());
    part.forward(Pass::train);
    std::copy(logits_grad.begin() + k * kChunk * kClasses, logits_grad.begin() + (k + 1) * kChunk * kClasses,
              part.logits_grad());
    part.backward();
    const auto g = part.gradients();
    if (k == 0) {
      sum.assign(g.begin(), g.end());
    } else {
      for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += g[i];
    }
  }
  EXPECT_TRUE(same_bits(sum, copy(whole.gradients())))
      << "the batch's weight gradient is not the chunk-ordered sum of the chunks'";
  omp_set_num_threads(saved);
}

}  // namespace
}  // namespace normlab
