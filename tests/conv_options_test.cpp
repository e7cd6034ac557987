// The convolution options. --conv winograd: which layers take Winograd, that a Winograd step
// computes what the direct one does (to rounding). --conv normlab: which layers take normlab's
// own kernels, and that its step computes what oneDNN's does, to rounding, with plain and
// standardised weights. --precision bf16: that a bf16 step computes
// what the f32 one does to bf16's rounding, with f32 master weights. Both: bit-reproducible at
// a fixed thread count.
// Each of the three needs what this CPU or build may lack, and skips naming it: oneDNN 2.6 has
// Winograd and bf16 convolutions for AVX-512 CPUs only, and normlab's kernels exist in a build
// for AVX-512 (-march).
#include <gtest/gtest.h>

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <string_view>
#include <vector>

#include "normlab/engine/bf16_copies.hpp"
#include "normlab/engine/loss.hpp"
#include "normlab/net/nets.hpp"
#include "normlab/engine/network.hpp"
#include "normlab/engine/optimizer.hpp"

namespace normlab {
namespace {

constexpr int kClasses = 10;

// oneDNN's ISA values are nested bit masks: each holds the bits of every ISA it extends.
bool cpu_isa_includes(dnnl::cpu_isa isa) {
  const auto have = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  return (have & static_cast<unsigned>(isa)) == static_cast<unsigned>(isa);
}

// oneDNN 2.6 implements Winograd and bf16 convolutions (native or emulated) with AVX-512 only.
bool onednn_has_avx512_convolutions() { return cpu_isa_includes(dnnl::cpu_isa::avx512_core); }

#define SKIP_UNLESS_ONEDNN_HAS(what)                                                        \
  if (!onednn_has_avx512_convolutions())                                                   \
  GTEST_SKIP() << "oneDNN 2.6 has " what " convolutions for AVX-512 (avx512_core) CPUs only, " \
                  "which this one is not"

#define SKIP_UNLESS_NORMLAB_KERNELS_BUILT()                                                 \
  if (!normlab_conv_kernels_built())                                                       \
  GTEST_SKIP() << "this build has no AVX-512 (-march=" NORMLAB_MARCH                       \
                  "), so none of normlab's own kernels: --conv normlab is refused"

// Every convolution Winograd could take (16 and 32 channels, 3x3), each with an input gradient.
using WinogradNet = Chain<Input<3, 8, 8>, Conv1x1<16>, Conv3x3<32>, Relu, BatchNorm,
                          Conv3x3<32>, Relu, GroupNorm<4>, Conv3x3<16>, GlobalAvgPool,
                          Conv1x1<kClasses>>;

template <class Net>
int winograd_layers(ConvMode mode) {
  Network<Net> net(2, 0, {mode});
  int count = 0;
  net.for_each_op([&](auto& op) {
    if constexpr (requires { op.uses_winograd(); }) count += op.uses_winograd() ? 1 : 0;
  });
  return count;
}

TEST(Winograd, SeedNetTakesItOnlyWhereTheTableSaysItPays) {
  SKIP_UNLESS_ONEDNN_HAS("Winograd");
  EXPECT_EQ(winograd_layers<SeedNet<BatchNorm>>(ConvMode::direct), 0);
  // C8 and C9, the 32 -> 32 convolutions at 8x8.
  EXPECT_EQ(winograd_layers<SeedNet<BatchNorm>>(ConvMode::winograd), 2);
  // Every 3x3 with 16 or 32 channels in and out: C2, C5, C5b, C7, C8, C9 (C1 has 3 inputs, C4 10).
  EXPECT_EQ(winograd_layers<SeedNet<BatchNorm>>(ConvMode::winograd_everywhere), 6);
  EXPECT_EQ(winograd_layers<WinogradNet>(ConvMode::winograd_everywhere), 3);
}

struct Step {
  std::vector<float> logits, gradients, parameters, buffers;
};

// `steps` SGD steps on one fixed batch of 8 (the last one's gradients are not applied).
template <class Net = WinogradNet>
Step train(ConvOptions conv, int steps, float lr = 0.05f) {
  Network<Net> net(8, 0, conv);
  net.initialise(9);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (long i = 0; i < 8L * Net::input.size(); ++i) net.input()[i] = u(rng);
  std::vector<int> labels(8);
  for (int& l : labels) l = int(rng() % kClasses);
  for (int s = 0; s < steps; ++s) {
    net.forward(Pass::train, {5, 0, s});
    softmax_cross_entropy(net.logits(), labels.data(), 8, kClasses, 0.f, net.logits_grad(), nullptr);
    net.backward();
    if (s + 1 < steps) sgd_step(net, {0.9f, false, 0.f}, lr);
  }
  auto copy = [](std::span<const float> v) { return std::vector<float>(v.begin(), v.end()); };
  return {{net.logits(), net.logits() + 8 * kClasses}, copy(net.gradients()),
          copy(net.parameters()), copy(net.buffers())};
}

void expect_same_bits(const Step& a, const Step& b) {
  for (auto [x, y] : {std::pair{&a.logits, &b.logits}, {&a.gradients, &b.gradients},
                      {&a.parameters, &b.parameters}, {&a.buffers, &b.buffers}})
    EXPECT_EQ(std::memcmp(x->data(), y->data(), x->size() * sizeof(float)), 0);
}

double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double diff2 = 0, ref2 = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff2 += std::pow(double(a[i]) - b[i], 2);
    ref2 += double(b[i]) * b[i];
  }
  return std::sqrt(diff2 / ref2);
}

// Winograd rounds differently (its transforms add and subtract), nothing more: the logits, every
// gradient (through BatchNorm and GroupNorm, so the input gradients of each convolution count
// too) and the running statistics agree with the direct kernels to float rounding, after three
// steps as after one.
TEST(Winograd, StepsComputeWhatTheDirectKernelsDoToRounding) {
  SKIP_UNLESS_ONEDNN_HAS("Winograd");
  omp_set_num_threads(1);
  for (const int steps : {1, 3}) {
    const Step direct = train({ConvMode::direct}, steps);
    const Step winograd = train({ConvMode::winograd_everywhere}, steps);
    EXPECT_LT(relative_difference(winograd.logits, direct.logits), 1e-4) << steps;
    EXPECT_LT(relative_difference(winograd.gradients, direct.gradients), 1e-3) << steps;
    EXPECT_LT(relative_difference(winograd.parameters, direct.parameters), 1e-5) << steps;
    EXPECT_LT(relative_difference(winograd.buffers, direct.buffers), 1e-4) << steps;
    EXPECT_NE(std::memcmp(winograd.logits.data(), direct.logits.data(), 8 * kClasses * 4), 0)
        << "identical bits: Winograd did not run";
  }
}

TEST(Winograd, IsBitReproducibleWithTwoThreads) {
  SKIP_UNLESS_ONEDNN_HAS("Winograd");
  omp_set_num_threads(2);
  expect_same_bits(train({ConvMode::winograd_everywhere}, 3), train({ConvMode::winograd_everywhere}, 3));
}

// ---- normlab's own kernels ------------------------------------------------------------------

template <class Net>
std::pair<int, int> own_kernel_layers(ConvOptions conv) {
  Network<Net> net(2, 0, conv);
  int forward = 0, backward_data = 0;
  net.for_each_op([&](auto& op) {
    if constexpr (requires { op.uses_own_forward(); }) {
      forward += op.uses_own_forward() ? 1 : 0;
      backward_data += op.uses_own_backward_data() ? 1 : 0;
    }
  });
  return {forward, backward_data};
}

constexpr ConvOptions kNormlab{ConvMode::normlab};

// A build for this very CPU (-march=native) on an AVX-512 CPU must have the kernels, so the
// tests below skip only where they cannot run.
TEST(NormlabKernels, AreBuiltForAnAvx512Cpu) {
  if (std::string_view(NORMLAB_MARCH) != "native")
    GTEST_SKIP() << "a build for -march=" NORMLAB_MARCH ", not for this CPU";
  if (!__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "this CPU has no AVX-512";
  EXPECT_TRUE(normlab_conv_kernels_built()) << "-march=native on an AVX-512 CPU, yet no kernels";
}

TEST(NormlabKernels, RunEveryPassTheyTake) {
  SKIP_UNLESS_NORMLAB_KERNELS_BUILT();
  EXPECT_EQ(own_kernel_layers<SeedNet<BatchNorm>>({}), std::pair(0, 0));
  EXPECT_EQ(own_kernel_layers<SeedNet<BatchNorm>>(kNormlab), std::pair(8, 6))
      << "forward: all eight 3x3 layers; backward data: all but C1 (no input gradient) and "
         "C4 (10 input channels)";
  // S8Net's top-level 3x3 layers (for_each_op does not enter residual bodies): C1, C2, C4, C7;
  // C1 has no input gradient.
  EXPECT_EQ(own_kernel_layers<S8Net<BatchNorm>>(kNormlab), std::pair(4, 3));
  EXPECT_EQ(own_kernel_layers<SeedNet<BatchNorm>>({ConvMode::normlab, Precision::bf16}),
            std::pair(0, 0))
      << "the kernels are f32: bf16 stays with oneDNN";
}

// A net whose 3x3 convolutions all have input gradients, one of them with standardised weights
// (the kernels must read the standardised copy, as oneDNN's primitives do).
using StandardizedNet = Chain<Input<3, 16, 16>, Conv1x1<16>, Conv<32, 3, ConvWeights::standardized>,
                              BatchNorm, Relu, Conv3x3<16>, Relu, GroupNorm<4>, Conv3x3<32>,
                              GlobalAvgPool, Conv1x1<kClasses>>;

// Only the order of the sums differs from oneDNN's direct kernels: logits, every gradient,
// parameters and running statistics agree to float rounding, after one step and after three.
template <class Net>
void expect_normlab_equals_direct_to_rounding() {
  omp_set_num_threads(1);
  for (const int steps : {1, 3}) {
    const Step direct = train<Net>({ConvMode::direct}, steps);
    const Step own = train<Net>(kNormlab, steps);
    EXPECT_LT(relative_difference(own.logits, direct.logits), 1e-5) << steps;
    EXPECT_LT(relative_difference(own.gradients, direct.gradients), 1e-4) << steps;
    EXPECT_LT(relative_difference(own.parameters, direct.parameters), 1e-6) << steps;
    EXPECT_LT(relative_difference(own.buffers, direct.buffers), 1e-5) << steps;
  }
}

// (Without the kernels --conv normlab would compare oneDNN with itself: it skips.)
TEST(NormlabKernels, StepsComputeWhatOneDnnDoesToRounding) {
  SKIP_UNLESS_NORMLAB_KERNELS_BUILT();
  expect_normlab_equals_direct_to_rounding<WinogradNet>();
  expect_normlab_equals_direct_to_rounding<StandardizedNet>();
}

TEST(NormlabKernels, IsBitReproducibleWithTwoThreads) {
  SKIP_UNLESS_NORMLAB_KERNELS_BUILT();
  omp_set_num_threads(2);
  expect_same_bits(train<StandardizedNet>(kNormlab, 3), train<StandardizedNet>(kNormlab, 3));
}

// ---- bf16 -------------------------------------------------------------------------------------

constexpr ConvOptions kBf16{ConvMode::direct, Precision::bf16};

// bf16 keeps 8 bits of mantissa (a relative rounding of up to 2^-9 per input), the sums stay
// f32: the step agrees with f32 to about a percent, not to float rounding, and it does differ.
// (Measured here: logits 1.0-1.2 %, gradients 4-6.5 % through two norms at batch 8,
// parameters 0.03 % after two updates; a missing or misplaced copy gives 30 % and more.)
TEST(Bf16, StepsComputeWhatF32DoesToBf16Rounding) {
  SKIP_UNLESS_ONEDNN_HAS("bf16");
  omp_set_num_threads(1);
  for (const int steps : {1, 3}) {
    const Step f32 = train({}, steps);
    const Step bf16 = train(kBf16, steps);
    EXPECT_LT(relative_difference(bf16.logits, f32.logits), 3e-2) << steps;
    EXPECT_LT(relative_difference(bf16.gradients, f32.gradients), 0.15) << steps;
    EXPECT_LT(relative_difference(bf16.parameters, f32.parameters), 2e-3) << steps;
    EXPECT_LT(relative_difference(bf16.buffers, f32.buffers), 1e-3) << steps;
    EXPECT_GT(relative_difference(bf16.logits, f32.logits), 1e-6) << "bf16 did not round anything";
  }
}

// The master weights are f32: an update far below bf16's resolution (2^-8 relative) still moves
// them, and by what f32 arithmetic says.
TEST(Bf16, MasterWeightsAreF32) {
  SKIP_UNLESS_ONEDNN_HAS("bf16");
  omp_set_num_threads(1);
  const Step start = train(kBf16, 1);
  const Step moved = train(kBf16, 2, 1e-6f);
  int moved_count = 0;
  for (std::size_t i = 0; i < start.parameters.size(); ++i)
    moved_count += moved.parameters[i] != start.parameters[i] ? 1 : 0;
  EXPECT_GT(moved_count, int(start.parameters.size()) / 2);
}

TEST(Bf16, IsBitReproducibleWithTwoThreads) {
  SKIP_UNLESS_ONEDNN_HAS("bf16");
  omp_set_num_threads(2);
  expect_same_bits(train(kBf16, 3), train(kBf16, 3));
}

#define SKIP_UNLESS_NATIVE_BF16()                                                            \
  if (!cpu_has_native_bf16())                                                              \
  GTEST_SKIP() << "this CPU converts to bf16 by emulation (no AVX512_BF16 or AMX): the "     \
                  "convolutions convert their own copies"

// normlab's conversion rounds every float as oneDNN's reorder does on this CPU: halfway cases
// to even, denormals to a zero of their sign, infinities kept, NaN quiet.
TEST(Bf16, ConversionRoundsAsOneDnnDoes) {
  SKIP_UNLESS_NATIVE_BF16();
  std::vector<float> x;
  std::mt19937 rng(11);
  for (int i = 0; i < 4000; ++i) {  // random bit patterns: every exponent, both signs
    std::uint32_t u = rng();
    float f;
    std::memcpy(&f, &u, 4);
    if (!std::isnan(f)) x.push_back(f);
  }
  for (std::uint32_t u : {0x3f808000u, 0x3f818000u, 0xbf808000u, 0x3f807fffu, 0x3f808001u,  // ties
                          0x00000001u, 0x807fffffu, 0x00000000u, 0x80000000u,              // denormals, zeros
                          0x7f800000u, 0xff800000u, 0x7f7fffffu, 0x7fc00000u, 0x7f800001u}) { // inf, max, NaN
    float f;
    std::memcpy(&f, &u, 4);
    x.push_back(f);
  }
  const long n = long(x.size());
  std::vector<std::uint16_t> ours(x.size()), onednn(x.size());
  convert_to_bf16(x.data(), ours.data(), n);
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const dnnl::memory from({{n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a}, engine, x.data());
  const dnnl::memory to({{n}, dnnl::memory::data_type::bf16, dnnl::memory::format_tag::a}, engine, onednn.data());
  dnnl::reorder(from, to).execute(stream, const_cast<dnnl::memory&>(from), const_cast<dnnl::memory&>(to));
  stream.wait();
  int differ = 0;
  for (long i = 0; i < n; ++i) differ += ours[i] != onednn[i] ? 1 : 0;
  EXPECT_EQ(differ, 0) << "of " << n << " floats";
}

// The norms and pooling write the bf16 copies their neighbouring convolutions read, in their
// own passes; the step is the same bits as when every convolution converts its own. In
// SeedNet, 20 copies: the inputs of the ten convolutions after a norm, a pool or the global
// average pool, and the output gradients of the eight 3x3 convolutions before a norm and the
// two 1x1 before a pool.
template <class Net>
void expect_copies_by_writers_change_nothing(int expected_copies) {
  ConvOptions by_convolutions = kBf16;
  by_convolutions.bf16_copies_by_writers = false;
  EXPECT_EQ(Network<Net>(8, 0, kBf16).bf16_copies().agreed_count(), expected_copies);
  EXPECT_EQ(Network<Net>(8, 0, by_convolutions).bf16_copies().agreed_count(), 0);
  expect_same_bits(train<Net>(kBf16, 3), train<Net>(by_convolutions, 3));
}

TEST(Bf16, CopiesWrittenByTheNormsAreTheSameBits) {
  SKIP_UNLESS_NATIVE_BF16();
  omp_set_num_threads(2);
  expect_copies_by_writers_change_nothing<SeedNet<BatchNorm>>(20);
  expect_copies_by_writers_change_nothing<SeedNet<GroupNorm<4>>>(20);
  expect_copies_by_writers_change_nothing<SeedNet<InstanceNorm>>(20);
  // Without norms only the pools write copies: C4, C7 and C10's inputs, c3 and c6's gradients.
  expect_copies_by_writers_change_nothing<SeedNet<NoNorm>>(5);
  // S8Net: the gradients of all nine convolutions before a norm, the inputs of all but C1 and
  // c6: a residual's sum is not its body's output, so c6 after the first one converts its own.
  expect_copies_by_writers_change_nothing<S8Net<BatchNorm>>(17);
  expect_copies_by_writers_change_nothing<S8Net<LayerNorm>>(17);
}

}  // namespace
}  // namespace normlab
