// Whole networks: the gradient of the real loss through every layer, parameter counts of the
// declared nets at run time, and that SGD can overfit one small batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <omp.h>

#include "normlab/engine/loss.hpp"
#include "normlab/train/models.hpp"
#include "normlab/net/nets.hpp"
#include "normlab/engine/network.hpp"
#include "normlab/engine/optimizer.hpp"

namespace normlab {
namespace {

// Shaped like the real nets, at 8x8: conv-ReLU-norm-dropout blocks, a 1x1 transition, max pool,
// a residual block, global average pooling and a 1x1 classifier.
template <class Norm>
using TinyNet = Chain<Input<3, 8, 8>,
    Conv3x3<8>, Relu, Norm, Dropout<10>,
    Conv3x3<8>, Relu, Norm, Dropout<10>,
    Conv1x1<8>, MaxPool2,
    Residual<Conv3x3<8>, Norm, Relu>,
    GlobalAvgPool, Conv1x1<10>>;

constexpr int kClasses = 10;

// Thousands of tiny forwards: on a shared 2-core machine, OpenMP's spinning workers make them
// hundreds of times slower than one thread. The maths is the same.
const int kOneThread = (omp_set_num_threads(1), 1);

template <class Net>
struct Batch {
  std::vector<float> images;
  std::vector<int> labels;
  explicit Batch(int n, unsigned seed) : labels(std::size_t(n)) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    images.resize(std::size_t(n) * Net::input.size());
    for (auto& x : images) x = u(rng);
    for (int i = 0; i < n; ++i) labels[i] = int(rng() % kClasses);
  }
};

template <class Net>
double mean_loss(Network<Net>& net, const std::vector<int>& labels, bool with_grad,
                 const StepKey& step = {3, 0, 7}) {
  net.forward(Pass::train, step);
  const auto r = softmax_cross_entropy(net.logits(), labels.data(), net.batch(), kClasses, 0.f,
                                       with_grad ? net.logits_grad() : nullptr, nullptr);
  return r.loss_sum / net.batch();
}

template <class Norm>
void expect_network_gradient_matches_finite_differences(int norm_batch = 0) {
  using Net = TinyNet<Norm>;
  Network<Net> net(4, norm_batch);
  net.initialise(21);
  // mean_loss's default step key: one dropout mask for every forward below
  // Norm scales and shifts away from their 1/0 initialisation, so their gradients are generic.
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-0.3f, 0.3f);
  for (const auto& p : net.parameter_table()) {
    if (p.torch_shape.size() != 1) continue;
    auto v = net.read(p);
    for (auto& x : v) x += u(rng);
    net.write(p, v);
  }
  const Batch<Net> batch(4, 17);
  std::copy(batch.images.begin(), batch.images.end(), net.input());

  mean_loss(net, batch.labels, true);
  net.backward();
  const std::vector<float> analytic(net.gradients().begin(), net.gradients().end());

  // Central difference of the mean loss in parameter i, with the step float actually took.
  float* w = net.parameters().data();
  auto numeric_gradient = [&](std::size_t i, double eps) {
    const float saved = w[i];
    w[i] = float(saved + eps);
    const double up = mean_loss(net, batch.labels, false);
    const double h_up = double(w[i]) - saved;
    w[i] = float(saved - eps);
    const double down = mean_loss(net, batch.labels, false);
    const double h_down = saved - double(w[i]);
    w[i] = saved;
    return (up - down) / (h_up + h_down);
  };

  // A sample of every tensor: up to 8 elements spread over it. Thousands of ReLU units make
  // the loss kinked at the scale of any usable step (a unit crossing zero biases a difference
  // by up to ~5e-3 for one element), and float32 logits add ~1e-7 of noise, so single elements
  // are not compared; each tensor's sample is, as a vector. The layer tests check each backward
  // tightly; a missing term, factor or sign anywhere in the chain still fails here.
  const double eps = 1e-3;
  double diff2_all = 0, ref2_all = 0;
  for (const auto& p : net.parameter_table()) {
    const std::size_t offset = p.slot.offset / sizeof(float), n = p.slot.bytes / sizeof(float);
    double diff2 = 0, ref2 = 0;
    for (std::size_t k = 0; k < std::min<std::size_t>(n, 8); ++k) {
      const std::size_t i = offset + (k * 7919) % n;
      const double numeric = numeric_gradient(i, eps);
      diff2 += std::pow(analytic[i] - numeric, 2);
      ref2 += numeric * numeric;
    }
    EXPECT_LE(std::sqrt(diff2), 0.1 * std::sqrt(ref2) + 2e-3) << p.name;
    diff2_all += diff2;
    ref2_all += ref2;
  }
  ASSERT_GT(ref2_all, 0);
  EXPECT_LT(std::sqrt(diff2_all / ref2_all), 0.05) << "relative error over all sampled elements";
}

TEST(NetworkGradient, BatchNormNetworkMatchesFiniteDifferencesOfTheMeanLoss) {
  expect_network_gradient_matches_finite_differences<BatchNorm>();
}

TEST(NetworkGradient, GhostBatchNormNetworkMatchesFiniteDifferencesOfTheMeanLoss) {
  expect_network_gradient_matches_finite_differences<BatchNorm>(/*norm_batch=*/2);
}

TEST(NetworkGradient, GroupNormNetworkMatchesFiniteDifferencesOfTheMeanLoss) {
  expect_network_gradient_matches_finite_differences<GroupNorm<2>>();
}

TEST(NetworkGradient, LayerNormNetworkMatchesFiniteDifferencesOfTheMeanLoss) {
  expect_network_gradient_matches_finite_differences<LayerNorm>();
}

TEST(NetworkGradient, InstanceNormNetworkMatchesFiniteDifferencesOfTheMeanLoss) {
  expect_network_gradient_matches_finite_differences<InstanceNorm>();
}

TEST(NetworkGradient, NetworkWithoutNormsMatchesFiniteDifferencesOfTheMeanLoss) {
  expect_network_gradient_matches_finite_differences<NoNorm>();
}

// ---- Parameter counts at run time ---------------------------------------------------------

TEST(NetworkParameters, SeedNetHasTheSeeds35504ParametersForEveryNorm) {
  EXPECT_EQ(Network<SeedNet<BatchNorm>>(2).parameter_count(), 35'504);
  EXPECT_EQ(Network<SeedNet<SeedGroupNorm>>(2).parameter_count(), 35'504);
  EXPECT_EQ(Network<SeedNet<LayerNorm>>(2).parameter_count(), 35'504);
}

TEST(NetworkParameters, S8NetRuntimeCountEqualsItsCompileTimeCount) {
  EXPECT_EQ(Network<S8Net<BatchNorm>>(2).parameter_count(), S8Net<BatchNorm>::parameters);
  EXPECT_EQ(Network<S8Net<LayerNorm>>(2).parameter_count(), S8Net<LayerNorm>::parameters);
  EXPECT_EQ(Network<S8Net<NoNorm>>(2).parameter_count(), S8Net<NoNorm>::parameters);
}

TEST(NetworkParameters, InstanceNormKeepsAndNoNormDropsTheNormsScalesAndShifts) {
  EXPECT_EQ(Network<SeedNet<InstanceNorm>>(2).parameter_count(), 35'504);
  Network<SeedNet<NoNorm>> none(2);
  EXPECT_EQ(none.parameter_count(), 35'504 - 384);
  for (const auto& p : none.parameter_table()) EXPECT_TRUE(p.name.starts_with("conv")) << p.name;
  EXPECT_TRUE(none.buffer_table().empty());
}

// PyTorch's default draws within +-1/sqrt(fan_in); He's draws N(0, 2/fan_in): over SeedNet's
// 2,304 weights of conv2 (fan-in 144) the sample standard deviations tell them apart.
TEST(NetworkParameters, HeInitialisationDrawsConvolutionWeightsWithStdSqrtTwoOverFanIn) {
  Network<SeedNet<NoNorm>> net(2);
  const auto& conv2 = net.parameter_table()[1];
  ASSERT_EQ(conv2.name, "conv2.weight");
  auto moments = [&] {
    const std::vector<float> w = net.read(conv2);
    double sum = 0, squares = 0;
    for (float v : w) sum += v, squares += double(v) * v;
    const double mean = sum / double(w.size());
    return std::pair{mean, std::sqrt(squares / double(w.size()) - mean * mean)};
  };
  const double fan_in = 16 * 9;
  net.initialise(1, InitScheme::pytorch_default);
  const auto [uniform_mean, uniform_std] = moments();
  EXPECT_NEAR(uniform_std, 1 / std::sqrt(fan_in) / std::sqrt(3.0), 0.005);  // U(-b, b): b / sqrt 3
  net.initialise(1, InitScheme::he);
  const auto [he_mean, he_std] = moments();
  EXPECT_NEAR(he_mean, 0, 0.01);
  EXPECT_NEAR(he_std, std::sqrt(2 / fan_in), 0.006);
}

TEST(NetworkParameters, ParameterBlockHoldsExactlyTheTableEntries) {
  Network<SeedNet<BatchNorm>> net(2);
  std::size_t floats = 0;
  for (const auto& p : net.parameter_table()) floats += p.slot.bytes / sizeof(float);
  EXPECT_EQ(floats, 35'504u);
  EXPECT_GE(net.parameters().size(), floats);  // plus alignment padding between tensors
  EXPECT_EQ(net.gradients().size(), net.parameters().size());
  EXPECT_EQ(net.momentum().size(), net.parameters().size());
}

// ---- Diagnostics probes ------------------------------------------------------------------

// At a sampled step every convolution with an input gradient writes that gradient's norm; at
// the others none does (the probe costs a branch, nothing else).
TEST(GradientProbes, ConvolutionsRecordTheirInputGradientNormOnlyWhenSampling) {
  Network<TinyNet<BatchNorm>> net(4);
  net.initialise(1);
  const Batch<TinyNet<BatchNorm>> batch(4, 5);
  std::copy(batch.images.begin(), batch.images.end(), net.input());
  auto step = [&](bool sampling) {
    net.gradient_probes().sampling = sampling;
    mean_loss(net, batch.labels, true, {3, 0, 0});
    net.backward();
    net.gradient_probes().sampling = false;
  };
  const GradientProbes& probes = net.gradient_probes();
  ASSERT_EQ(probes.layers, (std::vector<std::string>{"conv2", "conv1x1_1", "conv3", "conv1x1_2"}));
  step(false);
  for (double n : probes.norms) EXPECT_EQ(n, 0.0);
  step(true);
  for (std::size_t i = 0; i < probes.norms.size(); ++i) EXPECT_GT(probes.norms[i], 0.0) << probes.layers[i];
}

// ---- Training ------------------------------------------------------------------------------

template <class Norm>
void expect_sgd_overfits_one_batch(int steps = 30) {
  using Net = TinyNet<Norm>;
  Network<Net> net(8);
  net.initialise(1);
  const Batch<Net> batch(8, 99);
  std::copy(batch.images.begin(), batch.images.end(), net.input());
  double first = 0, last = 0;
  for (int step = 0; step < steps; ++step) {
    last = mean_loss(net, batch.labels, true, {3, 0, step});
    if (step == 0) first = last;
    net.backward();
    sgd_step(net, {}, 0.05f);
  }
  // Chance level is ln 10 = 2.30; a working backward pass memorises 8 images quickly.
  EXPECT_NEAR(first, std::log(10.0), 0.5);
  EXPECT_LT(last, 0.4 * first) << "loss went from " << first << " to " << last;
}

TEST(NetworkTraining, SgdOverfitsOneBatchWithBatchNorm) { expect_sgd_overfits_one_batch<BatchNorm>(); }
TEST(NetworkTraining, SgdOverfitsOneBatchWithGroupNorm) { expect_sgd_overfits_one_batch<GroupNorm<2>>(); }
TEST(NetworkTraining, SgdOverfitsOneBatchWithLayerNorm) { expect_sgd_overfits_one_batch<LayerNorm>(); }
// Per-channel statistics of 4x4 and 8x8 maps leave less to fit with: it needs more steps.
TEST(NetworkTraining, SgdOverfitsOneBatchWithInstanceNorm) { expect_sgd_overfits_one_batch<InstanceNorm>(80); }

// With zero gradients and momentum, one step of lr 1 and decay 0.25 scales each decayed
// parameter by 0.75: the convolution's weights always, the norm's scale only with decay_norms.
TEST(NetworkTraining, WeightDecaySkipsNormScalesAndShiftsUnlessAsked) {
  for (const bool decay_norms : {false, true}) {
    Network<Chain<Input<3, 4, 4>, Conv3x3<4>, GroupNorm<2>>> net(2);
    net.initialise(1);
    std::fill(net.gradients().begin(), net.gradients().end(), 0.f);
    std::fill(net.momentum().begin(), net.momentum().end(), 0.f);
    const auto& conv = net.parameter_table()[0];
    const auto& scale = net.parameter_table()[1];
    ASSERT_EQ(scale.name, "gn1.weight");
    const std::vector<float> conv_before = net.read(conv);
    sgd_step(net, {0.f, false, 0.25f, decay_norms}, 1.f);
    const std::vector<float> conv_after = net.read(conv), scale_after = net.read(scale);
    for (std::size_t i = 0; i < conv_after.size(); ++i)
      EXPECT_FLOAT_EQ(conv_after[i], 0.75f * conv_before[i]);
    for (const float gamma : scale_after) EXPECT_FLOAT_EQ(gamma, decay_norms ? 0.75f : 1.f);
  }
}

// ---- Norm batch ("ghost" batch norm) ------------------------------------------------------

// What three SGD steps on one batch leave behind: the last logits and gradients, the
// parameters, the momentum and the running statistics.
struct AfterSteps {
  std::vector<float> logits, gradients, parameters, momentum, buffers;
};

template <class Net>
AfterSteps three_steps(int batch, int norm_batch) {
  Network<Net> net(batch, norm_batch);
  net.initialise(4);
  const Batch<Net> data(batch, 23);
  std::copy(data.images.begin(), data.images.end(), net.input());
  for (int step = 0; step < 3; ++step) {
    mean_loss(net, data.labels, true, {3, 0, step});
    net.backward();
    sgd_step(net, {0.9f, true, 5e-4f}, 0.05f);
  }
  const float* logits = net.logits();
  auto copy = [](std::span<const float> s) { return std::vector<float>(s.begin(), s.end()); };
  return {{logits, logits + std::size_t(batch) * kClasses}, copy(net.gradients()),
          copy(net.parameters()), copy(net.momentum()), copy(net.buffers())};
}

void expect_same_bits(const AfterSteps& a, const AfterSteps& b) {
  auto same = [](const std::vector<float>& x, const std::vector<float>& y) {
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
  };
  EXPECT_TRUE(same(a.logits, b.logits)) << "logits differ";
  EXPECT_TRUE(same(a.gradients, b.gradients)) << "gradients differ";
  EXPECT_TRUE(same(a.parameters, b.parameters)) << "parameters differ";
  EXPECT_TRUE(same(a.momentum, b.momentum)) << "momentum differs";
  EXPECT_TRUE(same(a.buffers, b.buffers)) << "running statistics differ";
}

// A norm batch of the whole batch is today's batch norm, bit for bit, through training steps.
TEST(NetworkNormBatch, BatchNormWithTheWholeBatchAsNormBatchIsBitIdenticalToTheDefault) {
  using Net = SeedNet<BatchNorm>;
  const AfterSteps plain = three_steps<Net>(8, 0);
  expect_same_bits(plain, three_steps<Net>(8, 8));
  // The option reaches the layers: groups of 2 images normalise differently.
  EXPECT_FALSE(plain.logits == three_steps<Net>(8, 2).logits) << "a norm batch of 2 changed nothing";
}

// Per-image norms accept the option and are unaffected by it.
TEST(NetworkNormBatch, GroupNormAndLayerNormIgnoreTheNormBatch) {
  expect_same_bits(three_steps<SeedNet<SeedGroupNorm>>(8, 0), three_steps<SeedNet<SeedGroupNorm>>(8, 2));
  expect_same_bits(three_steps<SeedNet<LayerNorm>>(8, 0), three_steps<SeedNet<LayerNorm>>(8, 2));
}

// The groups' scale and shift gradients are summed in a fixed order: the same bits every run
// for a fixed thread count (two here, so oneDNN's kernels do split their work).
TEST(NetworkNormBatch, GhostBatchNormIsBitReproducibleWithTwoThreads) {
  omp_set_num_threads(2);
  const AfterSteps a = three_steps<SeedNet<BatchNorm>>(8, 2);
  const AfterSteps b = three_steps<SeedNet<BatchNorm>>(8, 2);
  omp_set_num_threads(kOneThread);
  expect_same_bits(a, b);
}

TEST(NetworkNormBatch, ANormBatchThatDoesNotDivideTheBatchIsRefused) {
  using Net = TinyNet<BatchNorm>;
  for (const int k : {3, 5, 16, -2}) EXPECT_THROW((Network<Net>{8, k}), std::invalid_argument) << k;
  // Whatever the norm: a grid holding the option fixed fails the same way for each.
  EXPECT_THROW((Network<TinyNet<LayerNorm>>{8, 3}), std::invalid_argument);
  for (const int k : {0, 1, 2, 4, 8}) EXPECT_NO_THROW((Network<Net>{8, k})) << k;
  try {
    Network<Net> net(8, 3);
    ADD_FAILURE() << "a norm batch of 3 was accepted for a batch of 8";
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("3"), std::string::npos) << message;
    EXPECT_NE(message.find("8"), std::string::npos) << message;
  }
  // BatchNorm's unbiased variance needs two values per channel in a group.
  using OnePixel = Chain<Input<4, 1, 1>, Conv1x1<4>, BatchNorm>;
  EXPECT_THROW((Network<OnePixel>{8, 1}), std::invalid_argument);
  EXPECT_NO_THROW((Network<OnePixel>{8, 2}));
}


// ---- Per-layer facts come from the layer types, not their names ------------------------------

TEST(LayerTraits, EveryConvolutionCountsItsTwoBackwardProducts) {
  // S8Net's convolutions are "WSConv3x3"/"WSConv1x1": a name test on "Conv" once missed them.
  int convolutions = 0;
  for (const normlab::LayerInfo& l : normlab::S8Net<normlab::BatchNorm>::layers) {
    if (&l == &normlab::S8Net<normlab::BatchNorm>::layers[0]) continue;  // no input gradient: below
    if (l.kind == "WSConv3x3" || l.kind == "WSConv1x1" || l.kind == "Conv1x1") {
      EXPECT_DOUBLE_EQ(l.backward_flops, 2 * l.flops) << l.kind;
      ++convolutions;
    }
    if (l.kind == "BatchNorm" || l.kind == "ReLU" || l.kind == "MaxPool2x2") {
      EXPECT_DOUBLE_EQ(l.backward_flops, l.flops) << l.kind;
    }
    if (l.kind == "Residual") {
      EXPECT_GT(l.backward_flops, 1.9 * l.flops);  // mostly convolutions
    }
  }
  EXPECT_EQ(convolutions, 6);
  // The first convolution computes no input gradient (the images have none): the weight
  // gradient alone, as costly as its forward. The network's total counts it so.
  using Net = normlab::S8Net<normlab::BatchNorm>;
  static_assert(Net::layers[0].backward_flops == Net::layers[0].flops);
  static_assert(!Net::layers[0].input_gradient && Net::layers[1].input_gradient);
  double total = 0;
  for (const normlab::LayerInfo& l : Net::layers) total += l.backward_flops;
  EXPECT_DOUBLE_EQ(Net::backward_flops, total);
  using Seed = normlab::SeedNet<normlab::BatchNorm>;
  static_assert(Seed::layers[0].backward_flops == Seed::layers[0].flops);
  static_assert(Seed::layers[1].backward_flops == Seed::layers[1].flops);  // ReLU: its input has one
}

// ---- The op contract: backward overwrites, never accumulates ---------------------------------

// Every parameter's gradient and every activation gradient starts as NaN; one step later every
// parameter gradient is finite. An op that added to its gradient instead of writing it, or a
// parameter no op writes (a Call left empty), would leave NaN behind. Every network, every norm.
TEST(OpContract, EveryParameterGradientIsWrittenEachStepNeverAccumulated) {
  int networks = 0;
  for_each_network([&]<class Net>(std::string_view net_name, std::string_view norm_name) {
    Network<Net> net(4, 2);
    net.initialise(1);
    for (long i = 0; i < long(4 * Net::input.size()); ++i) net.input()[i] = float(i % 7) / 7.f - 0.4f;
    auto poison = [&](Region r) {
      float* p = reinterpret_cast<float*>(net.arena().region_begin(r));
      std::fill(p, p + net.arena().region_bytes(r) / sizeof(float), std::nanf(""));
    };
    poison(Region::gradients);
    poison(Region::activation_gradients);
    poison(Region::workspace);
    net.forward(Pass::train, {1, 0, 0});
    poison(Region::workspace);  // nothing may carry over from forward to backward in it
    const std::vector<int> labels = {0, 1, 2, 3};
    softmax_cross_entropy(net.logits(), labels.data(), 4, net.classes(), 0.f, net.logits_grad(), nullptr);
    net.backward();
    for (const auto& p : net.parameter_table()) {
      const float* g = net.arena().template as<float>(net.arena().mirror(p.slot, Region::gradients));
      const long n = long(p.slot.bytes / sizeof(float));
      long bad = 0;
      for (long i = 0; i < n; ++i) bad += !std::isfinite(g[i]);
      EXPECT_EQ(bad, 0) << net_name << "/" << norm_name << " " << p.name << ": " << bad << " of " << n
                        << " gradient values not written";
    }
    ++networks;
  });
  EXPECT_EQ(networks, 15);
}

// ---- The arena's plan of activation gradients --------------------------------------------------

// Gradients whose layer ranges meet are alive at the same time during backward: they must not
// share a byte. (In-place layers share one gradient, one lifetime, by design.) Every network.
TEST(GradientPlan, NoTwoLiveGradientsOverlap) {
  int networks = 0;
  for_each_network([&]<class Net>(std::string_view net_name, std::string_view norm_name) {
    Network<Net> net(4);
    const auto& g = net.arena().gradient_lifetimes();
    long overlapping = 0, shared = 0;
    for (std::size_t a = 0; a < g.size(); ++a)
      for (std::size_t b = a + 1; b < g.size(); ++b) {
        const bool live_together = g[a].first <= g[b].last && g[b].first <= g[a].last;
        const bool same_bytes = g[a].offset < g[b].offset + g[b].bytes && g[b].offset < g[a].offset + g[a].bytes;
        overlapping += live_together && same_bytes;
        shared += same_bytes;
      }
    EXPECT_EQ(overlapping, 0) << net_name << "/" << norm_name;
    EXPECT_GT(shared, 0) << net_name << "/" << norm_name << ": the plan shares nothing";
    EXPECT_LT(net.arena().region_bytes(Region::activation_gradients), net.arena().plan().gradients_unplanned / 2)
        << net_name << "/" << norm_name;
    for (const auto& l : g) EXPECT_LE(l.first, l.last) << net_name << "/" << norm_name << ": a gradient never used";
    ++networks;
  });
  EXPECT_EQ(networks, 15);
}

}  // namespace
}  // namespace normlab
