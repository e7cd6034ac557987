// normlab's own 3x3 kernels against a double-precision reference: every width the row
// segments split differently (8 ... 48: edge, middle and last segments of 16 and 8 pixels),
// every input channel count built, one and two blocks of 16 output channels and both mixed;
// the same bits with one thread and two; and the problems they refuse.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "normlab/engine/conv3x3_kernels.hpp"

namespace normlab::conv3x3 {
namespace {

std::vector<float> random_floats(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// y[n][y][x][o] = sum over kh, kw, i of x[n][y+kh-1][x+kw-1][i] * w[o][i][kh][kw] (zero outside).
std::vector<double> reference_forward(const Problem& p, const std::vector<float>& x,
                                      const std::vector<float>& w) {
  const int H = p.height, W = p.width, C = p.in_channels, O = p.out_channels;
  std::vector<double> y(std::size_t(p.batch) * H * W * O, 0.0);
  for (int n = 0; n < p.batch; ++n)
    for (int r = 0; r < H; ++r)
      for (int c = 0; c < W; ++c)
        for (int o = 0; o < O; ++o) {
          double sum = 0;
          for (int kh = 0; kh < 3; ++kh)
            for (int kw = 0; kw < 3; ++kw) {
              const int ir = r + kh - 1, ic = c + kw - 1;
              if (ir < 0 || ir >= H || ic < 0 || ic >= W) continue;
              for (int i = 0; i < C; ++i)
                sum += double(x[((std::size_t(n) * H + ir) * W + ic) * C + i]) *
                       w[((std::size_t(o) * C + i) * 3 + kh) * 3 + kw];
            }
          y[((std::size_t(n) * H + r) * W + c) * O + o] = sum;
        }
  return y;
}

// dx[n][y][x][i] = sum over kh, kw, o of dy[n][y-kh+1][x-kw+1][o] * w[o][i][kh][kw].
std::vector<double> reference_backward_data(const Problem& p, const std::vector<float>& dy,
                                            const std::vector<float>& w) {
  const int H = p.height, W = p.width, C = p.in_channels, O = p.out_channels;
  std::vector<double> dx(std::size_t(p.batch) * H * W * C, 0.0);
  for (int n = 0; n < p.batch; ++n)
    for (int r = 0; r < H; ++r)
      for (int c = 0; c < W; ++c)
        for (int kh = 0; kh < 3; ++kh)
          for (int kw = 0; kw < 3; ++kw) {
            const int ir = r + kh - 1, ic = c + kw - 1;  // the input pixel this output reads
            if (ir < 0 || ir >= H || ic < 0 || ic >= W) continue;
            for (int o = 0; o < O; ++o)
              for (int i = 0; i < C; ++i)
                dx[((std::size_t(n) * H + ir) * W + ic) * C + i] +=
                    double(dy[((std::size_t(n) * H + r) * W + c) * O + o]) *
                    w[((std::size_t(o) * C + i) * 3 + kh) * 3 + kw];
          }
  return dx;
}

// The largest error relative to the largest reference value: float sums of up to 9 x 32
// products of values in [-1, 1] stay within a few units of float rounding.
double relative_error(const std::vector<float>& got, const std::vector<double>& want) {
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    worst = std::max(worst, std::fabs(got[i] - want[i]));
    scale = std::max(scale, std::fabs(want[i]));
  }
  return worst / scale;
}

std::vector<float> run_forward(const Problem& p, const std::vector<float>& x,
                               const std::vector<float>& w) {
  std::vector<float> packed(packed_weights_floats(p)), y(std::size_t(p.batch) * p.height * p.width * p.out_channels, NAN);
  pack_forward_weights(p, w.data(), packed.data());
  forward(p, x.data(), packed.data(), y.data());
  return y;
}

std::vector<float> run_backward_data(const Problem& p, const std::vector<float>& dy,
                                     const std::vector<float>& w) {
  std::vector<float> packed(packed_weights_floats(p)), dx(std::size_t(p.batch) * p.height * p.width * p.in_channels, NAN);
  pack_backward_data_weights(p, w.data(), packed.data());
  backward_data(p, dy.data(), packed.data(), dx.data());
  return dx;
}

class Kernels : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!available()) GTEST_SKIP() << "this build has no AVX-512 (-march=" NORMLAB_MARCH "), so no kernels";
    omp_set_num_threads(2);
  }
};

TEST_F(Kernels, ForwardEqualsTheReference) {
  for (int width : {8, 16, 24, 32, 40, 48})
    for (int in : {3, 10, 16, 32})
      for (int out : {16, 32, 48}) {
        const Problem p{2, 5, width, in, out};
        ASSERT_TRUE(forward_supported(p));
        const auto x = random_floats(std::size_t(2) * 5 * width * in, 1);
        const auto w = random_floats(std::size_t(9) * in * out, 2);
        EXPECT_LT(relative_error(run_forward(p, x, w), reference_forward(p, x, w)), 1e-6)
            << "width " << width << ", " << in << " -> " << out;
      }
}

TEST_F(Kernels, BackwardDataEqualsTheReference) {
  for (int width : {8, 16, 24, 32, 40})
    for (int in : {16, 32, 48})
      for (int out : {3, 10, 16, 32}) {
        const Problem p{2, 4, width, in, out};
        ASSERT_TRUE(backward_data_supported(p));
        const auto dy = random_floats(std::size_t(2) * 4 * width * out, 3);
        const auto w = random_floats(std::size_t(9) * in * out, 4);
        EXPECT_LT(relative_error(run_backward_data(p, dy, w), reference_backward_data(p, dy, w)), 1e-6)
            << "width " << width << ", " << in << " -> " << out;
      }
}

// Each output is summed by one thread in a fixed order, so the thread count changes no bit.
TEST_F(Kernels, SameBitsWithOneThreadAndTwo) {
  const Problem p{6, 8, 24, 16, 48}, q{6, 8, 24, 48, 32};
  ASSERT_TRUE(forward_supported(p) && backward_data_supported(q));
  const auto x = random_floats(std::size_t(6) * 8 * 24 * 16, 5);
  const auto w = random_floats(std::size_t(9) * 16 * 48, 6);
  const auto dy = random_floats(std::size_t(6) * 8 * 24 * 32, 7);
  const auto v = random_floats(std::size_t(9) * 48 * 32, 8);
  omp_set_num_threads(1);
  const auto y1 = run_forward(p, x, w), dx1 = run_backward_data(q, dy, v);
  omp_set_num_threads(2);
  const auto y2 = run_forward(p, x, w), dx2 = run_backward_data(q, dy, v);
  EXPECT_EQ(std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(dx1.data(), dx2.data(), dx1.size() * sizeof(float)), 0);
}

TEST_F(Kernels, RefuseWhatTheyWereNotBuiltFor) {
  EXPECT_FALSE(forward_supported({2, 8, 8, 16, 10}));   // outputs not a multiple of 16
  EXPECT_FALSE(forward_supported({2, 8, 8, 7, 16}));    // inputs not built
  EXPECT_FALSE(forward_supported({2, 8, 12, 16, 16}));  // width not a multiple of 8
  EXPECT_FALSE(backward_data_supported({2, 8, 8, 10, 16}));  // input gradient of 10 channels
  EXPECT_TRUE(backward_data_supported({2, 8, 8, 16, 10}));   // from 10 output channels
}

}  // namespace
}  // namespace normlab::conv3x3
