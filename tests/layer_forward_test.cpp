// Each layer's forward pass against a naive double-precision reference written here with plain
// loops, on small shapes with random inputs and random parameters.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "normlab/net/chain.hpp"
#include "normlab/engine/network.hpp"

namespace normlab {
namespace {

constexpr double kEps = 1e-5;  // the norms' epsilon, as PyTorch and the engine use it

// A batch of activations in NCHW order, double precision.
struct Planar {
  int n = 0, c = 0, h = 0, w = 0;
  std::vector<double> v;
  Planar() = default;
  Planar(int n_, int c_, int h_, int w_) : n(n_), c(c_), h(h_), w(w_), v(std::size_t(n_) * c_ * h_ * w_) {}
  double& operator()(int i, int ch, int y, int x) { return v[((std::size_t(i) * c + ch) * h + y) * w + x]; }
  double operator()(int i, int ch, int y, int x) const {
    return v[((std::size_t(i) * c + ch) * h + y) * w + x];
  }
};

// A network of one layer (after the input) with random input and parameters, and its output
// read back from channels-last into NCHW.
template <class Net>
class OneLayer {
 public:
  explicit OneLayer(int batch, int norm_batch = 0, unsigned seed = 7, int groups = kSeedGroups)
      : net_(batch, norm_batch, {}, groups), rng_(seed) {
    net_.initialise(1);
    const Shape s = Net::input;
    input_ = Planar(batch, s.c, s.h, s.w);
    for (std::size_t i = 0; i < input_.v.size(); ++i) {
      const float x = uniform(-2.f, 2.f);
      input_.v[i] = x;
      net_.input()[i] = x;
    }
  }

  Network<Net>& net() { return net_; }
  const Planar& input() const { return input_; }

  // Writes random values into the index-th parameter (PyTorch layout) and returns them.
  std::vector<double> randomise_parameter(std::size_t index, float lo, float hi) {
    return randomise(net_.parameter_table().at(index), lo, hi);
  }
  // Makes the index-th parameter, a C x C 1x1 convolution, pass its input through unchanged.
  void make_identity(std::size_t index, int channels) {
    std::vector<float> eye(std::size_t(channels) * channels, 0.f);
    for (int c = 0; c < channels; ++c) eye[std::size_t(c) * channels + c] = 1.f;
    net_.write(net_.parameter_table().at(index), eye);
  }
  std::vector<double> randomise_buffer(std::size_t index, float lo, float hi) {
    return randomise(net_.buffer_table().at(index), lo, hi);
  }

  Planar output() const {
    const Shape s = Net::output;
    Planar out(net_.batch(), s.c, s.h, s.w);
    const float* y = net_.logits();
    for (int i = 0; i < out.n; ++i)
      for (int yy = 0; yy < s.h; ++yy)
        for (int xx = 0; xx < s.w; ++xx)
          for (int ch = 0; ch < s.c; ++ch) out(i, ch, yy, xx) = *y++;
    return out;
  }

  float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng_); }

 private:
  std::vector<double> randomise(const ParameterInfo& p, float lo, float hi) {
    long size = 1;
    for (auto d : p.torch_shape) size *= d;
    std::vector<float> values(static_cast<std::size_t>(size));
    for (auto& x : values) x = uniform(lo, hi);
    net_.write(p, values);
    return {values.begin(), values.end()};
  }

  Network<Net> net_;
  std::mt19937 rng_;
  Planar input_;
};

// ---- Naive references ---------------------------------------------------------------------

// Stride 1, padding kernel / 2, no bias; weights OIHW.
Planar conv(const Planar& x, const std::vector<double>& w, int out, int k) {
  const int pad = k / 2;
  Planar y(x.n, out, x.h, x.w);
  for (int i = 0; i < x.n; ++i)
    for (int o = 0; o < out; ++o)
      for (int yy = 0; yy < x.h; ++yy)
        for (int xx = 0; xx < x.w; ++xx) {
          double sum = 0;
          for (int ci = 0; ci < x.c; ++ci)
            for (int ky = 0; ky < k; ++ky)
              for (int kx = 0; kx < k; ++kx) {
                const int sy = yy + ky - pad, sx = xx + kx - pad;
                if (sy < 0 || sy >= x.h || sx < 0 || sx >= x.w) continue;
                sum += x(i, ci, sy, sx) * w[((std::size_t(o) * x.c + ci) * k + ky) * k + kx];
              }
          y(i, o, yy, xx) = sum;
        }
  return y;
}

Planar relu(Planar x) {
  for (auto& v : x.v) v = std::max(v, 0.0);
  return x;
}

// Per-channel statistics over (batch, height, width): mean and biased variance.
void channel_stats(const Planar& x, std::vector<double>& mean, std::vector<double>& var) {
  mean.assign(std::size_t(x.c), 0);
  var.assign(std::size_t(x.c), 0);
  const double count = double(x.n) * x.h * x.w;
  for (int ch = 0; ch < x.c; ++ch) {
    for (int i = 0; i < x.n; ++i)
      for (int yy = 0; yy < x.h; ++yy)
        for (int xx = 0; xx < x.w; ++xx) mean[ch] += x(i, ch, yy, xx);
    mean[ch] /= count;
    for (int i = 0; i < x.n; ++i)
      for (int yy = 0; yy < x.h; ++yy)
        for (int xx = 0; xx < x.w; ++xx) var[ch] += std::pow(x(i, ch, yy, xx) - mean[ch], 2);
    var[ch] /= count;
  }
}

Planar batch_norm(Planar x, const std::vector<double>& mean, const std::vector<double>& var,
                  const std::vector<double>& gamma, const std::vector<double>& beta) {
  for (int i = 0; i < x.n; ++i)
    for (int ch = 0; ch < x.c; ++ch)
      for (int yy = 0; yy < x.h; ++yy)
        for (int xx = 0; xx < x.w; ++xx) {
          double& v = x(i, ch, yy, xx);
          v = gamma[ch] * (v - mean[ch]) / std::sqrt(var[ch] + kEps) + beta[ch];
        }
  return x;
}

// Images first .. first + count - 1 of a batch.
Planar images(const Planar& x, int first, int count) {
  Planar out(count, x.c, x.h, x.w);
  const std::size_t per_image = std::size_t(x.c) * x.h * x.w;
  std::copy_n(x.v.begin() + long(first * per_image), count * per_image, out.v.begin());
  return out;
}

// "Ghost" batch norm: each group of k consecutive images normalised by its own statistics,
// and the running statistics moved by each group in turn (momentum 0.1, unbiased variance),
// as k-image mini-batches one after another would move them.
Planar ghost_batch_norm(const Planar& x, int k, const std::vector<double>& gamma,
                        const std::vector<double>& beta, std::vector<double>& running_mean,
                        std::vector<double>& running_var) {
  Planar y = x;
  const double count = double(k) * x.h * x.w;
  for (int first = 0; first < x.n; first += k) {
    const Planar group = images(x, first, k);
    std::vector<double> mean, var;
    channel_stats(group, mean, var);
    const Planar normalised = batch_norm(group, mean, var, gamma, beta);
    std::copy(normalised.v.begin(), normalised.v.end(),
              y.v.begin() + long(std::size_t(first) * x.c * x.h * x.w));
    for (int c = 0; c < x.c; ++c) {
      running_mean[c] = 0.9 * running_mean[c] + 0.1 * mean[c];
      running_var[c] = 0.9 * running_var[c] + 0.1 * var[c] * count / (count - 1);
    }
  }
  return y;
}

// Statistics per (sample, group of C/G channels), then a per-channel scale and shift.
Planar group_norm(Planar x, int groups, const std::vector<double>& gamma,
                  const std::vector<double>& beta) {
  const int per_group = x.c / groups;
  const double count = double(per_group) * x.h * x.w;
  for (int i = 0; i < x.n; ++i)
    for (int g = 0; g < groups; ++g) {
      double mean = 0, var = 0;
      for (int ch = g * per_group; ch < (g + 1) * per_group; ++ch)
        for (int yy = 0; yy < x.h; ++yy)
          for (int xx = 0; xx < x.w; ++xx) mean += x(i, ch, yy, xx);
      mean /= count;
      for (int ch = g * per_group; ch < (g + 1) * per_group; ++ch)
        for (int yy = 0; yy < x.h; ++yy)
          for (int xx = 0; xx < x.w; ++xx) var += std::pow(x(i, ch, yy, xx) - mean, 2);
      var /= count;
      for (int ch = g * per_group; ch < (g + 1) * per_group; ++ch)
        for (int yy = 0; yy < x.h; ++yy)
          for (int xx = 0; xx < x.w; ++xx) {
            double& v = x(i, ch, yy, xx);
            v = gamma[ch] * (v - mean) / std::sqrt(var + kEps) + beta[ch];
          }
    }
  return x;
}

Planar max_pool2(const Planar& x) {
  Planar y(x.n, x.c, x.h / 2, x.w / 2);
  for (int i = 0; i < x.n; ++i)
    for (int ch = 0; ch < x.c; ++ch)
      for (int yy = 0; yy < y.h; ++yy)
        for (int xx = 0; xx < y.w; ++xx)
          y(i, ch, yy, xx) = std::max({x(i, ch, 2 * yy, 2 * xx), x(i, ch, 2 * yy, 2 * xx + 1),
                                       x(i, ch, 2 * yy + 1, 2 * xx), x(i, ch, 2 * yy + 1, 2 * xx + 1)});
  return y;
}

Planar global_avg_pool(const Planar& x) {
  Planar y(x.n, x.c, 1, 1);
  for (int i = 0; i < x.n; ++i)
    for (int ch = 0; ch < x.c; ++ch) {
      double sum = 0;
      for (int yy = 0; yy < x.h; ++yy)
        for (int xx = 0; xx < x.w; ++xx) sum += x(i, ch, yy, xx);
      y(i, ch, 0, 0) = sum / (x.h * x.w);
    }
  return y;
}

// Every element within abs + rel * |expected|; reports the worst one instead of hundreds.
void expect_close(const Planar& got, const Planar& want, double abs_tol = 1e-4, double rel_tol = 1e-4) {
  ASSERT_EQ(got.v.size(), want.v.size());
  double worst = 0;
  std::size_t worst_at = 0, bad = 0;
  for (std::size_t i = 0; i < got.v.size(); ++i) {
    const double excess = std::abs(got.v[i] - want.v[i]) - (abs_tol + rel_tol * std::abs(want.v[i]));
    if (excess > 0) ++bad;
    if (excess > worst || i == 0) worst = excess, worst_at = i;
  }
  EXPECT_EQ(bad, 0u) << "worst at flat NCHW index " << worst_at << ": got " << got.v[worst_at]
                     << ", expected " << want.v[worst_at];
}

constexpr int kBatch = 3;

// ---- Convolutions -------------------------------------------------------------------------

// 40 images run as 4 chunks of 10 (chunks.hpp): every chunk is convolved, none twice.
TEST(LayerForward, Conv3x3MatchesDirectConvolutionWithZeroPadding) {
  for (const int batch : {kBatch, 40}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    OneLayer<Chain<Input<4, 6, 6>, Conv3x3<8>>> t(batch);
    const auto w = t.randomise_parameter(0, -0.5f, 0.5f);
    t.net().forward(Pass::train);
    expect_close(t.output(), conv(t.input(), w, 8, 3));
  }
}

TEST(LayerForward, Conv1x1MixesChannelsPerPixel) {
  OneLayer<Chain<Input<8, 6, 6>, Conv1x1<5>>> t(kBatch);
  const auto w = t.randomise_parameter(0, -0.5f, 0.5f);
  t.net().forward(Pass::eval);
  expect_close(t.output(), conv(t.input(), w, 5, 1));
}

// Weight standardisation: the convolution sees each output channel's weights at zero mean and
// unit (biased) variance; the stored weights stay as they were.
TEST(LayerForward, StandardizedConvConvolvesWithPerChannelStandardisedWeights) {
  OneLayer<Chain<Input<4, 6, 6>, Conv<8, 3, ConvWeights::standardized>>> t(kBatch);
  const auto w = t.randomise_parameter(0, -0.5f, 1.5f);
  const long fan_in = 4 * 3 * 3;
  std::vector<double> standardized(w.size());
  for (long o = 0; o < 8; ++o) {
    double mean = 0, variance = 0;
    for (long i = 0; i < fan_in; ++i) mean += w[o * fan_in + i] / double(fan_in);
    for (long i = 0; i < fan_in; ++i) variance += std::pow(w[o * fan_in + i] - mean, 2) / double(fan_in);
    for (long i = 0; i < fan_in; ++i)
      standardized[o * fan_in + i] = (w[o * fan_in + i] - mean) / std::sqrt(variance + 1e-5);
  }
  t.net().forward(Pass::eval);
  expect_close(t.output(), conv(t.input(), standardized, 8, 3));
  const auto stored = t.net().read(t.net().parameter_table()[0]);
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_EQ(stored[i], float(w[i]));
}

// ---- Element-wise and pooling -------------------------------------------------------------

TEST(LayerForward, ReluZeroesNegativesAndKeepsPositives) {
  OneLayer<Chain<Input<4, 6, 6>, Relu>> t(kBatch);
  t.net().forward(Pass::train);
  expect_close(t.output(), relu(t.input()), 0, 0);
}

// Pooling runs behind an identity 1x1 convolution: see the next test for why.
TEST(LayerForward, MaxPool2TakesTheLargestOfEachTwoByTwoWindow) {
  OneLayer<Chain<Input<4, 6, 6>, Conv1x1<4>, MaxPool2>> t(kBatch);
  t.make_identity(0, 4);
  t.net().forward(Pass::train);
  expect_close(t.output(), max_pool2(t.input()), 0, 0);
}

// The pooled widths with a kernel of their own (10, 16, 32 channels), and one read at run time.
template <int C>
void expect_max_pool2_exact() {
  OneLayer<Chain<Input<C, 6, 8>, Conv1x1<C>, MaxPool2>> t(kBatch);
  t.make_identity(0, C);
  t.net().forward(Pass::train);
  expect_close(t.output(), max_pool2(t.input()), 0, 0);
}

TEST(LayerForward, MaxPool2IsExactAtEveryWidthWithAKernelOfItsOwn) {
  expect_max_pool2_exact<10>();
  expect_max_pool2_exact<16>();
  expect_max_pool2_exact<32>();
  expect_max_pool2_exact<24>();  // run-time width
}

TEST(LayerForward, GlobalAvgPoolAveragesEachChannelOverTheImage) {
  OneLayer<Chain<Input<8, 6, 6>, Conv1x1<8>, GlobalAvgPool>> t(kBatch);
  t.make_identity(0, 8);
  t.net().forward(Pass::eval);
  expect_close(t.output(), global_avg_pool(t.input()), 1e-6, 1e-5);
}

// Pooling straight after the input has no gradient to pass back: PoolOp must build its
// backward arguments only where a gradient flows ("arena: slot resolved before allocate").
TEST(LayerForward, PoolingDirectlyOnTheNetworkInputCanBeBuilt) {
  using MaxOnInput = Network<Chain<Input<4, 6, 6>, MaxPool2>>;
  using AvgOnInput = Network<Chain<Input<4, 6, 6>, GlobalAvgPool>>;
  EXPECT_NO_THROW(MaxOnInput{kBatch})
      << "PoolOp::bind must not resolve out_.grad when the input has no gradient";
  EXPECT_NO_THROW(AvgOnInput{kBatch});
}

// ---- Normalisations -----------------------------------------------------------------------

TEST(LayerForward, BatchNormInTrainingUsesTheBatchStatistics) {
  OneLayer<Chain<Input<6, 6, 6>, BatchNorm>> t(kBatch);
  const auto gamma = t.randomise_parameter(0, 0.5f, 1.5f);
  const auto beta = t.randomise_parameter(1, -0.5f, 0.5f);
  t.randomise_buffer(0, -1.f, 1.f);  // running statistics must not be used in training
  t.randomise_buffer(1, 0.5f, 2.f);
  t.net().forward(Pass::train);
  std::vector<double> mean, var;
  channel_stats(t.input(), mean, var);
  expect_close(t.output(), batch_norm(t.input(), mean, var, gamma, beta));
}

TEST(LayerForward, BatchNormInEvaluationUsesTheRunningStatistics) {
  OneLayer<Chain<Input<6, 6, 6>, BatchNorm>> t(kBatch);
  const auto gamma = t.randomise_parameter(0, 0.5f, 1.5f);
  const auto beta = t.randomise_parameter(1, -0.5f, 0.5f);
  const auto running_mean = t.randomise_buffer(0, -1.f, 1.f);
  const auto running_var = t.randomise_buffer(1, 0.5f, 2.f);
  t.net().forward(Pass::eval);
  expect_close(t.output(), batch_norm(t.input(), running_mean, running_var, gamma, beta));
}

TEST(LayerForward, BatchNormTrainingStepMovesRunningStatisticsByMomentumWithUnbiasedVariance) {
  OneLayer<Chain<Input<6, 6, 6>, BatchNorm>> t(kBatch);
  const auto& table = t.net().buffer_table();
  ASSERT_EQ(table.size(), 2u);
  EXPECT_EQ(table[0].name, "bn1.running_mean");
  EXPECT_EQ(table[1].name, "bn1.running_var");
  const auto mean0 = t.randomise_buffer(0, -1.f, 1.f);
  const auto var0 = t.randomise_buffer(1, 0.5f, 2.f);
  t.net().forward(Pass::train);

  std::vector<double> mean, var;
  channel_stats(t.input(), mean, var);
  const double count = double(kBatch) * 6 * 6;
  const auto mean1 = t.net().read(table[0]);
  const auto var1 = t.net().read(table[1]);
  for (int c = 0; c < 6; ++c) {
    EXPECT_NEAR(mean1[c], 0.9 * mean0[c] + 0.1 * mean[c], 1e-5) << "channel " << c;
    EXPECT_NEAR(var1[c], 0.9 * var0[c] + 0.1 * var[c] * count / (count - 1), 1e-5) << "channel " << c;
  }
  // Evaluation reads the running statistics and leaves them alone.
  t.net().forward(Pass::eval);
  EXPECT_EQ(t.net().read(table[0]), mean1);
  EXPECT_EQ(t.net().read(table[1]), var1);
}

// ---- Ghost batch norm ---------------------------------------------------------------------

// 48 images are 3 chunks of 16 (chunks.hpp), and norm batches of 24 straddle a chunk: the
// statistics must count every image of each group once (a pass that drops the last chunk
// fails here); 48 of 48 is plain batch norm over several chunks.
TEST(LayerForward, BatchNormWithANormBatchNormalisesEachGroupOfImagesByItsOwnStatistics) {
  for (const auto [n, k] : {std::pair{8, 2}, {8, 4}, {48, 48}, {48, 24}, {48, 8}}) {
    SCOPED_TRACE("norm batch " + std::to_string(k) + " of " + std::to_string(n));
    OneLayer<Chain<Input<6, 6, 6>, BatchNorm>> t(n, k);
    const auto gamma = t.randomise_parameter(0, 0.5f, 1.5f);
    const auto beta = t.randomise_parameter(1, -0.5f, 0.5f);
    auto running_mean = t.randomise_buffer(0, -1.f, 1.f);
    auto running_var = t.randomise_buffer(1, 0.5f, 2.f);
    t.net().forward(Pass::train);
    const Planar want = ghost_batch_norm(t.input(), k, gamma, beta, running_mean, running_var);
    expect_close(t.output(), want);
    const auto& table = t.net().buffer_table();
    const auto mean1 = t.net().read(table[0]), var1 = t.net().read(table[1]);
    for (int c = 0; c < 6; ++c) {
      EXPECT_NEAR(mean1[c], running_mean[c], 1e-5) << "running mean, channel " << c;
      EXPECT_NEAR(var1[c], running_var[c], 1e-5) << "running variance, channel " << c;
    }
    // Evaluation normalises the whole batch with the running statistics, as without groups.
    t.net().forward(Pass::eval);
    expect_close(t.output(), batch_norm(t.input(), running_mean, running_var, gamma, beta));
  }
}

template <class Norm, int Groups, int Channels = 8>
void expect_group_norm_matches_reference(int groups_of_the_run = kSeedGroups) {
  OneLayer<Chain<Input<Channels, 6, 6>, Norm>> t(kBatch, 0, 7, groups_of_the_run);
  const auto gamma = t.randomise_parameter(0, 0.5f, 1.5f);
  const auto beta = t.randomise_parameter(1, -0.5f, 0.5f);
  t.net().forward(Pass::train);
  expect_close(t.output(), group_norm(t.input(), Groups, gamma, beta));
  // No running statistics: evaluation computes the same thing.
  t.net().forward(Pass::eval);
  expect_close(t.output(), group_norm(t.input(), Groups, gamma, beta));
}

TEST(LayerForward, GroupNormWithTwoGroupsNormalisesEachHalfOfTheChannelsPerSample) {
  expect_group_norm_matches_reference<GroupNorm<2>, 2>();
}

TEST(LayerForward, GroupNormWithFourGroupsNormalisesEachQuarterOfTheChannelsPerSample) {
  expect_group_norm_matches_reference<GroupNorm<4>, 4>();
}

TEST(LayerForward, LayerNormNormalisesAllChannelsAndPixelsOfEachSample) {
  expect_group_norm_matches_reference<LayerNorm, 1>();
}

// The networks' GroupNorm takes its group count from the run (--groups), 4 unless given.
TEST(LayerForward, GroupNormOfTheRunUsesTheRunsGroupCount) {
  expect_group_norm_matches_reference<GroupNorm<kGroupsOfTheRun>, 4>();
  expect_group_norm_matches_reference<GroupNorm<kGroupsOfTheRun>, 2>(2);
  expect_group_norm_matches_reference<GroupNorm<kGroupsOfTheRun>, 8, 16>(8);
}

TEST(LayerForward, GroupNormOfTheRunRefusesACountThatDoesNotDivideItsChannels) {
  using Net = Chain<Input<8, 6, 6>, GroupNorm<kGroupsOfTheRun>>;
  EXPECT_THROW(Network<Net>(kBatch, 0, {}, 3), std::invalid_argument);
  EXPECT_NO_THROW(Network<Net>(kBatch, 0, {}, 8));
}

TEST(LayerForward, InstanceNormNormalisesEachChannelOfEachSampleOverItsPixels) {
  expect_group_norm_matches_reference<InstanceNorm, 8>();
  expect_group_norm_matches_reference<InstanceNorm, 16, 16>();
  expect_group_norm_matches_reference<InstanceNorm, 32, 32>();
}

// 16, 32 and 64 channels run their own compiled kernels (the networks' widths).
TEST(LayerForward, GroupNormAtTheNetworksWidthsMatchesTheReference) {
  expect_group_norm_matches_reference<GroupNorm<4>, 4, 16>();
  expect_group_norm_matches_reference<GroupNorm<4>, 4, 32>();
  expect_group_norm_matches_reference<LayerNorm, 1, 32>();
  expect_group_norm_matches_reference<GroupNorm<4>, 4, 64>();
}

// The diagnostics' view of a norm: per channel over images and pixels, averaged over channels.
NormStatistics naive_statistics(const Planar& in, const Planar& out) {
  NormStatistics s;
  const long pixels = long(in.h) * in.w;
  for (int c = 0; c < in.c; ++c) {
    double sums[4] = {0, 0, 0, 0};
    for (int n = 0; n < in.n; ++n)
      for (long p = 0; p < pixels; ++p) {
        const std::size_t i = (std::size_t(n) * in.c + c) * pixels + p;
        sums[0] += in.v[i], sums[1] += double(in.v[i]) * in.v[i];
        sums[2] += out.v[i], sums[3] += double(out.v[i]) * out.v[i];
      }
    const double count = double(in.n) * pixels, im = sums[0] / count, om = sums[2] / count;
    s.input_mean += im / in.c;
    s.input_std += std::sqrt(sums[1] / count - im * im) / in.c;
    s.output_mean += om / in.c;
    s.output_std += std::sqrt(sums[3] / count - om * om) / in.c;
  }
  return s;
}

template <class Norm>
void expect_statistics_match_the_layers_input_and_output(const char* layer) {
  OneLayer<Chain<Input<8, 6, 6>, Norm>> t(kBatch);
  t.randomise_parameter(0, 0.5f, 1.5f);
  t.randomise_parameter(1, -0.5f, 0.5f);
  t.net().forward(Pass::train);
  const auto all = t.net().norm_statistics();
  ASSERT_EQ(all.size(), 1u);
  const NormStatistics expected = naive_statistics(t.input(), t.output());
  EXPECT_EQ(all[0].layer, layer);
  EXPECT_NEAR(all[0].input_mean, expected.input_mean, 1e-5);
  EXPECT_NEAR(all[0].input_std, expected.input_std, 1e-5);
  EXPECT_NEAR(all[0].output_mean, expected.output_mean, 1e-4);
  EXPECT_NEAR(all[0].output_std, expected.output_std, 1e-4);
  EXPECT_GT(std::abs(expected.output_mean - expected.input_mean), 1e-3) << "a test that cannot tell them apart";
}

TEST(LayerForward, NormStatisticsAreThoseOfTheLayersInputAndOutput) {
  expect_statistics_match_the_layers_input_and_output<BatchNorm>("bn1");
  expect_statistics_match_the_layers_input_and_output<GroupNorm<2>>("gn1");
  expect_statistics_match_the_layers_input_and_output<LayerNorm>("ln1");
  expect_statistics_match_the_layers_input_and_output<InstanceNorm>("in1");
}

// ---- Dropout ------------------------------------------------------------------------------

TEST(LayerForward, DropoutInTrainingZeroesOrScalesEachValueAndDropsAboutPOfThem) {
  // 8 x 16 x 32 x 32 = 131,072 values: the dropped fraction's standard error is about 0.0012.
  using Net = Chain<Input<16, 32, 32>, Dropout<25>>;
  OneLayer<Net> t(8);
  t.net().forward(Pass::train);
  const Planar x = t.input(), y = t.output();
  std::size_t dropped = 0, wrong = 0;
  for (std::size_t i = 0; i < x.v.size(); ++i) {
    if (y.v[i] == 0) {
      ++dropped;
    } else if (std::abs(y.v[i] - x.v[i] / 0.75) > 1e-6 * (1 + std::abs(x.v[i]))) {
      ++wrong;
    }
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_NEAR(double(dropped) / double(x.v.size()), 0.25, 0.01);
}

TEST(LayerForward, DropoutMaskIsAFunctionOfTheStepKey) {
  OneLayer<Chain<Input<4, 6, 6>, Dropout<50>>> t(kBatch);
  t.net().forward(Pass::train, {11, 2, 5});
  const Planar first = t.output();
  t.net().forward(Pass::train, {11, 2, 5});
  EXPECT_EQ(t.output().v, first.v) << "same (seed, epoch, step) must give the same mask";
  t.net().forward(Pass::train, {11, 2, 6});
  EXPECT_NE(t.output().v, first.v) << "the next step must draw a new mask";
}

TEST(LayerForward, DropoutInEvaluationIsTheIdentity) {
  OneLayer<Chain<Input<4, 6, 6>, Dropout<50>>> t(kBatch);
  t.net().forward(Pass::eval);
  expect_close(t.output(), t.input(), 0, 0);
}

// ---- In place ------------------------------------------------------------------------------

// ReLU and dropout write over their input, value and gradient, unless something reads that
// input again: ReLU's own backward reads its output, so a dropout right after it gets buffers
// of its own, while one after a norm works in place.
TEST(LayerForward, ReluAndDropoutRunInPlaceUnlessTheirInputIsReadAgain) {
  Network<Chain<Input<4, 6, 6>, Conv1x1<8>, Relu, BatchNorm, Dropout<10>, Relu, Dropout<10>,
                GlobalAvgPool, Conv1x1<10>>, Executor::layered> net(kBatch);
  std::vector<Tensor> outputs;
  net.for_each_op([&](auto& op) { outputs.push_back(op.output()); });
  auto same = [](const Slot& a, const Slot& b) {
    return a.region == b.region && a.offset == b.offset && a.lifetime == b.lifetime;
  };
  ASSERT_EQ(outputs.size(), 8u);
  EXPECT_TRUE(same(outputs[1].value, outputs[0].value)) << "ReLU after a convolution";
  EXPECT_TRUE(same(outputs[1].grad, outputs[0].grad));
  EXPECT_FALSE(same(outputs[2].value, outputs[1].value)) << "batch norm is not in place";
  EXPECT_TRUE(same(outputs[3].value, outputs[2].value)) << "dropout after a norm";
  EXPECT_TRUE(same(outputs[3].grad, outputs[2].grad));
  EXPECT_TRUE(same(outputs[4].value, outputs[3].value)) << "ReLU after dropout";
  EXPECT_FALSE(same(outputs[5].value, outputs[4].value)) << "dropout after ReLU";
  EXPECT_FALSE(same(outputs[5].grad, outputs[4].grad));
}

// ---- Residual -----------------------------------------------------------------------------

TEST(LayerForward, ResidualAddsItsInputToItsBodysOutput) {
  OneLayer<Chain<Input<8, 6, 6>, Residual<Conv3x3<8>, BatchNorm, Relu>>> t(kBatch);
  const auto w = t.randomise_parameter(0, -0.3f, 0.3f);
  const auto gamma = t.randomise_parameter(1, 0.5f, 1.5f);
  const auto beta = t.randomise_parameter(2, -0.5f, 0.5f);
  t.net().forward(Pass::train);

  const Planar c = conv(t.input(), w, 8, 3);
  std::vector<double> mean, var;
  channel_stats(c, mean, var);
  Planar want = relu(batch_norm(c, mean, var, gamma, beta));
  for (std::size_t i = 0; i < want.v.size(); ++i) want.v[i] += t.input().v[i];
  expect_close(t.output(), want);
}

TEST(LayerForward, ResidualAroundAChainOfBlocksKeepsTheShapeAndAddsOnce) {
  using Body = Residual<Conv1x1<4>, Relu, Conv1x1<4>>;
  static_assert(Chain<Input<4, 6, 6>, Body>::output == Shape{4, 6, 6});
  OneLayer<Chain<Input<4, 6, 6>, Body>> t(kBatch);
  const auto w1 = t.randomise_parameter(0, -0.5f, 0.5f);
  const auto w2 = t.randomise_parameter(1, -0.5f, 0.5f);
  t.net().forward(Pass::eval);
  Planar want = conv(relu(conv(t.input(), w1, 4, 1)), w2, 4, 1);
  for (std::size_t i = 0; i < want.v.size(); ++i) want.v[i] += t.input().v[i];
  expect_close(t.output(), want);
}

}  // namespace
}  // namespace normlab
