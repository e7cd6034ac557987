// What the training diagnostics read from inside the network (train/diagnostics.hpp): each
// norm's input and output statistics, and the norm of the gradient reaching each convolution's
// input. Off the sampled steps they cost one branch per convolution's backward.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace normlab {

// One norm layer at the last training forward: the mean and the standard deviation of its
// input (after the ReLU before it, if any) and of its output (before the layer after it),
// each computed per channel over the batch's images and pixels, then averaged over channels.
struct NormStatistics {
  std::string layer;  // "bn3", "gn3", "ln3", "in3": the parameters' prefix
  double input_mean = 0, input_std = 0, output_mean = 0, output_std = 0;
};

// Gradient norms are recorded during backward, because the planner reuses an activation
// gradient's memory once its layers have run: at a sampled step the network sets `sampling`
// and each convolution with an input gradient writes the norm of that gradient into its slot.
struct GradientProbes {
  bool sampling = false;
  std::vector<std::string> layers;  // "conv2", ...: the convolutions with an input gradient
  std::vector<double> norms;        // of the last sampled backward, one per layer

  int add(const std::string& layer) {
    layers.push_back(layer);
    norms.push_back(0);
    return int(layers.size()) - 1;
  }
};

// Per channel over images and pixels, x taken through a ReLU when relu_before; the output is
// gamma * (x - mean) * rstd + beta with the mean and 1/std the norm used for (image, channel).
template <class MeanAndRstd>
NormStatistics channel_statistics(std::string layer, const float* x, long images, long pixels,
                                  int channels, bool relu_before, const float* gamma,
                                  const float* beta, MeanAndRstd&& mean_and_rstd) {
  std::vector<double> sums(4 * static_cast<std::size_t>(channels), 0.0);
  double* in_sum = sums.data();
  double* in_squares = in_sum + channels;
  double* out_sum = in_squares + channels;
  double* out_squares = out_sum + channels;
  std::vector<float> mean(static_cast<std::size_t>(channels)), rstd(static_cast<std::size_t>(channels));
  for (long n = 0; n < images; ++n) {
    for (int c = 0; c < channels; ++c) {
      const auto [m, r] = mean_and_rstd(n, c);
      mean[c] = m;
      rstd[c] = r;
    }
    const float* xn = x + n * pixels * channels;
    for (long p = 0; p < pixels; ++p)
      for (int c = 0; c < channels; ++c) {
        float v = xn[p * channels + c];
        if (relu_before && v < 0) v = 0;
        const double z = double(gamma[c]) * (double(v) - mean[c]) * rstd[c] + beta[c];
        in_sum[c] += v;
        in_squares[c] += double(v) * v;
        out_sum[c] += z;
        out_squares[c] += z * z;
      }
  }
  NormStatistics s{std::move(layer)};
  const double count = double(images) * double(pixels);
  for (int c = 0; c < channels; ++c) {
    const double in_mean = in_sum[c] / count, out_mean = out_sum[c] / count;
    s.input_mean += in_mean;
    s.output_mean += out_mean;
    s.input_std += std::sqrt(std::max(0.0, in_squares[c] / count - in_mean * in_mean));
    s.output_std += std::sqrt(std::max(0.0, out_squares[c] / count - out_mean * out_mean));
  }
  s.input_mean /= channels;
  s.input_std /= channels;
  s.output_mean /= channels;
  s.output_std /= channels;
  return s;
}

}  // namespace normlab
