// Each layer's backward pass (input gradient and parameter gradients) against central finite
// differences of L = sum(output * G) for a fixed random upstream gradient G.
//
// A layer under test sits behind an identity 1x1 convolution: the network input gets no
// gradient by design, the convolution's output does, and with identity weights that output
// is the network input itself, so perturbing net.input() perturbs exactly the layer's input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <omp.h>

#include "normlab/net/chain.hpp"
#include "normlab/engine/network.hpp"

namespace normlab {
namespace {

constexpr int kBatch = 3;

// Thousands of tiny forwards: on a shared 2-core machine, OpenMP's spinning workers make them
// hundreds of times slower than one thread. The maths is the same.
const int kOneThread = (omp_set_num_threads(1), 1);

struct Tolerance {
  double eps = 1e-2;      // finite-difference step
  double abs = 2e-3;      // per element, relative to the largest gradient (at least 1)
  double rel = 2e-2;      // per element, relative to the element
  double norm = 1e-2;     // ||analytic - numeric|| / ||numeric||
};

// Analytic and numeric gradients agree element by element and as whole vectors.
void expect_gradients_match(const std::vector<double>& analytic, const std::vector<double>& numeric,
                            const Tolerance& tol, const char* what) {
  ASSERT_EQ(analytic.size(), numeric.size());
  ASSERT_FALSE(numeric.empty());
  double scale = 1, diff2 = 0, ref2 = 0;
  for (double v : numeric) scale = std::max(scale, std::abs(v));
  std::size_t bad = 0, worst = 0;
  double worst_excess = -1e300;
  for (std::size_t i = 0; i < numeric.size(); ++i) {
    const double d = analytic[i] - numeric[i];
    diff2 += d * d;
    ref2 += numeric[i] * numeric[i];
    const double excess = std::abs(d) - (tol.abs * scale + tol.rel * std::abs(numeric[i]));
    if (excess > 0) ++bad;
    if (excess > worst_excess) worst_excess = excess, worst = i;
  }
  ASSERT_GT(ref2, 0) << what << ": the numeric gradient is all zero, the check would be empty";
  EXPECT_EQ(bad, 0u) << what << ": worst element " << worst << " analytic " << analytic[worst]
                     << " numeric " << numeric[worst];
  EXPECT_LT(std::sqrt(diff2 / ref2), tol.norm) << what;
}

enum class InputValues {
  smooth,    // uniform in [-2, 2]
  no_kinks,  // |x| >= 0.2, so a small step never crosses ReLU's kink
  distinct,  // a permutation of values 0.1 apart, so max pooling never meets a near-tie
};

template <class Net>
class GradientCheck {
 public:
  // identity_input: the first layer is a Conv1x1<C> made the identity (see the file comment).
  static constexpr StepKey kStep = {9, 1, 2};  // dropout draws the same mask for every forward

  // norm_batch: BatchNorm's statistics per group of that many images (0: the whole batch).
  GradientCheck(int batch, bool identity_input, InputValues values, int norm_batch = 0,
                unsigned seed = 3)
      : net_(batch, norm_batch), rng_(seed), identity_input_(identity_input) {
    net_.initialise(5);
    const auto& table = net_.parameter_table();
    for (std::size_t i = 0; i < table.size(); ++i) {
      long size = 1;
      for (auto d : table[i].torch_shape) size *= d;
      std::vector<float> v(static_cast<std::size_t>(size));
      const bool scale = table[i].name.ends_with(".weight") && table[i].torch_shape.size() == 1;
      for (auto& x : v) x = scale ? uniform(0.5f, 1.5f) : uniform(-0.5f, 0.5f);
      if (i == 0 && identity_input_) {
        const int c = Net::input.c;
        std::fill(v.begin(), v.end(), 0.f);
        for (int k = 0; k < c; ++k) v[std::size_t(k) * c + k] = 1.f;
      }
      net_.write(table[i], v);
    }
    const long inputs = long(batch) * Net::input.size();
    std::vector<float> in(static_cast<std::size_t>(inputs));
    if (values == InputValues::distinct) {
      for (long i = 0; i < inputs; ++i) in[i] = 0.1f * float(i - inputs / 2);
      std::shuffle(in.begin(), in.end(), rng_);
    } else {
      for (auto& x : in) {
        x = uniform(-2.f, 2.f);
        if (values == InputValues::no_kinks && std::abs(x) < 0.2f) x = x < 0 ? x - 0.2f : x + 0.2f;
      }
    }
    std::copy(in.begin(), in.end(), net_.input());
    upstream_.resize(std::size_t(batch) * Net::output.size());
    for (auto& g : upstream_) g = uniform(-1.f, 1.f);
  }

  Network<Net>& net() { return net_; }

  // L = sum(output * G), in double so the finite differences see only the network's rounding.
  double loss() {
    net_.forward(Pass::train, kStep);
    double sum = 0;
    for (std::size_t i = 0; i < upstream_.size(); ++i) sum += double(net_.logits()[i]) * upstream_[i];
    return sum;
  }

  void backward() {
    net_.forward(Pass::train, kStep);
    std::copy(upstream_.begin(), upstream_.end(), net_.logits_grad());
    net_.backward();
  }

  // dL/d(parameter) for every element of the index-th parameter tensor (arena order is
  // PyTorch's: the engine stores weights plain).
  void check_parameter(std::size_t index, const Tolerance& tol) {
    const auto& p = net_.parameter_table().at(index);
    const std::size_t offset = p.slot.offset / sizeof(float), n = p.slot.bytes / sizeof(float);
    backward();
    const auto grads = net_.gradients();
    std::vector<double> analytic(grads.begin() + offset, grads.begin() + offset + n), numeric(n);
    float* w = net_.parameters().data() + offset;
    for (std::size_t i = 0; i < n; ++i) numeric[i] = central_difference(w[i], tol.eps);
    expect_gradients_match(analytic, numeric, tol, p.name.c_str());
  }

  // dL/d(layer input): the identity convolution's output gradient, channels last.
  void check_input(const Tolerance& tol) {
    ASSERT_TRUE(identity_input_);
    backward();
    const float* grad = nullptr;
    bool first = true;
    net_.for_each_op([&](auto& op) {
      if (first) grad = net_.arena().template as<float>(op.output().grad);
      first = false;
    });
    const Shape s = Net::input;
    const int n = net_.batch();
    std::vector<double> analytic, numeric;
    for (int i = 0; i < n; ++i)
      for (int c = 0; c < s.c; ++c)
        for (int y = 0; y < s.h; ++y)
          for (int x = 0; x < s.w; ++x) {
            analytic.push_back(grad[((long(i) * s.h + y) * s.w + x) * s.c + c]);
            float& v = net_.input()[((long(i) * s.c + c) * s.h + y) * s.w + x];
            numeric.push_back(central_difference(v, tol.eps));
          }
    expect_gradients_match(analytic, numeric, tol, "layer input");
  }

  void check_all_parameters(const Tolerance& tol) {
    for (std::size_t i = 0; i < net_.parameter_table().size(); ++i) check_parameter(i, tol);
  }

 private:
  double central_difference(float& v, double eps) {
    const float saved = v;
    v = float(saved + eps);
    const double up = loss();
    const double step_up = double(v) - saved;  // the step float actually took
    v = float(saved - eps);
    const double down = loss();
    const double step_down = saved - double(v);
    v = saved;
    return (up - down) / (step_up + step_down);
  }

  float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng_); }

  Network<Net> net_;
  std::mt19937 rng_;
  bool identity_input_;
  std::vector<float> upstream_;
};

template <class Layer, int C = 8>
using Behind = Chain<Input<C, 6, 6>, Conv1x1<C>, Layer>;

// ---- Convolutions -------------------------------------------------------------------------

TEST(LayerGradient, FirstConvolutionGetsItsWeightGradientWithoutAnInputGradient) {
  using Net = Chain<Input<3, 6, 6>, Conv3x3<8>>;
  GradientCheck<Net> t(kBatch, false, InputValues::smooth);
  t.check_all_parameters({});
}

TEST(LayerGradient, Conv3x3InputAndWeightGradientsMatchFiniteDifferences) {
  GradientCheck<Behind<Conv3x3<6>, 4>> t(kBatch, true, InputValues::smooth);
  t.check_input({});
  t.check_all_parameters({});
}

TEST(LayerGradient, Conv1x1InputAndWeightGradientsMatchFiniteDifferences) {
  GradientCheck<Behind<Conv1x1<5>>> t(kBatch, true, InputValues::smooth);
  t.check_input({});
  t.check_all_parameters({});
}

TEST(LayerGradient, StandardizedConvGradientsFlowThroughTheStandardisation) {
  GradientCheck<Behind<Conv<6, 3, ConvWeights::standardized>, 4>> t(kBatch, true,
                                                                    InputValues::smooth);
  t.check_input({});
  t.check_all_parameters({});
}

// ---- Element-wise, pooling ----------------------------------------------------------------

TEST(LayerGradient, ReluPassesTheGradientWherePositive) {
  GradientCheck<Behind<Relu>> t(kBatch, true, InputValues::no_kinks);
  t.check_input({});
}

TEST(LayerGradient, DropoutScalesTheGradientThroughTheSameMask) {
  GradientCheck<Behind<Dropout<30>>> t(kBatch, true, InputValues::smooth);
  t.check_input({});
}

TEST(LayerGradient, MaxPool2RoutesTheGradientToEachWindowsMaximum) {
  GradientCheck<Behind<MaxPool2, 4>> t(kBatch, true, InputValues::distinct);
  t.check_input({});
}

// The widths with a pooling kernel of their own (10 and 16 channels in SeedNet, 32 in S8Net).
TEST(LayerGradient, MaxPool2RoutesTheGradientAtTheNetworksWidths) {
  GradientCheck<Behind<MaxPool2, 10>>(kBatch, true, InputValues::distinct).check_input({});
  GradientCheck<Behind<MaxPool2, 16>>(kBatch, true, InputValues::distinct).check_input({});
  GradientCheck<Behind<MaxPool2, 32>>(kBatch, true, InputValues::distinct).check_input({});
}

TEST(LayerGradient, GlobalAvgPoolSpreadsTheGradientEvenly) {
  GradientCheck<Behind<GlobalAvgPool>> t(kBatch, true, InputValues::smooth);
  t.check_input({});
}

// ---- Normalisations (training mode) -------------------------------------------------------

// A norm behind the identity convolution: its input's gradient, then its scale's (parameter 1,
// e.g. bn1.weight) and shift's (parameter 2, bn1.bias), against finite differences.
template <class Norm, int C = 8>
void check_norm_gradients(int batch = kBatch, int norm_batch = 0) {
  GradientCheck<Behind<Norm, C>> t(batch, true, InputValues::smooth, norm_batch);
  t.check_input({});
  t.check_parameter(1, {});
  t.check_parameter(2, {});
}

TEST(LayerGradient, BatchNormInputScaleAndShiftGradientsMatchFiniteDifferences) {
  check_norm_gradients<BatchNorm>();
}

// Ghost batch norm: each group's statistics depend on its own images only, and the scale and
// shift gradients are the sum over the groups.
TEST(LayerGradient, BatchNormWithANormBatchGradientsMatchFiniteDifferences) {
  for (const int k : {2, 4}) {
    SCOPED_TRACE("norm batch " + std::to_string(k) + " of 8");
    check_norm_gradients<BatchNorm>(8, k);
  }
}

TEST(LayerGradient, GroupNormWithTwoGroupsGradientsMatchFiniteDifferences) {
  check_norm_gradients<GroupNorm<2>>();
}

TEST(LayerGradient, GroupNormWithFourGroupsGradientsMatchFiniteDifferences) {
  check_norm_gradients<GroupNorm<4>>();
}

TEST(LayerGradient, InstanceNormGradientsMatchFiniteDifferences) {
  check_norm_gradients<InstanceNorm>();
  check_norm_gradients<InstanceNorm, 16>();
}

// 16 and 32 channels run their own compiled kernels (the networks' widths).
TEST(LayerGradient, GroupNormAtTheNetworksWidthsGradientsMatchFiniteDifferences) {
  check_norm_gradients<GroupNorm<4>, 16>();
  check_norm_gradients<LayerNorm, 32>();
}

TEST(LayerGradient, LayerNormGradientsMatchFiniteDifferences) { check_norm_gradients<LayerNorm>(); }

// ---- Residual -----------------------------------------------------------------------------

TEST(LayerGradient, ResidualAddsTheSkipGradientToTheBodysInputGradient) {
  GradientCheck<Behind<Residual<Conv3x3<8>, BatchNorm, Dropout<20>>>> t(kBatch, true,
                                                                        InputValues::smooth);
  t.check_input({});
  t.check_all_parameters({});
}

// The body starts with an in-place layer (it must not overwrite the skip's input) and ends
// with ReLU, whose backward reads its output (the sum must not go there).
TEST(LayerGradient, ResidualAroundInPlaceLayersKeepsTheSkipAndTheReluOutputIntact) {
  GradientCheck<Behind<Residual<Dropout<20>, Conv1x1<8>, Relu>>> t(kBatch, true,
                                                                   InputValues::smooth);
  // A step small enough that no ReLU unit crosses zero (the body's ReLU sees conv outputs).
  const Tolerance tol{.eps = 1e-4, .abs = 2e-3, .rel = 2e-2, .norm = 1e-2};
  t.check_input(tol);
  t.check_all_parameters(tol);
}

TEST(LayerGradient, ResidualAroundGroupNormGradientsMatchFiniteDifferences) {
  GradientCheck<Behind<Residual<Conv1x1<8>, GroupNorm<2>, Conv1x1<8>>>> t(kBatch, true,
                                                                         InputValues::smooth);
  t.check_input({});
  t.check_all_parameters({});
}

}  // namespace
}  // namespace normlab
