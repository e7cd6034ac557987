// The per-channel passes both norms end with, over channels-last values (positions x C).
// kChannels > 0 compiles the channel count in (the per-channel factors stay in registers);
// 0 reads it at run time.
#pragma once

namespace normlab {

// y = x * a[c] + b[c]: normalise, scale and shift in one pass.
template <int kChannels>
inline void scale_and_shift(const float* __restrict x, float* __restrict y, long positions,
                            int channels, const float* a, const float* b) {
  const int C = kChannels > 0 ? kChannels : channels;
  for (long p = 0; p < positions; ++p) {
#pragma omp simd
    for (int c = 0; c < C; ++c) y[p * C + c] = x[p * C + c] * a[c] + b[c];
  }
}

// The sums a norm's backward needs per channel: of dy, and of dy * (x - mean[c]), in float.
// Vectorised across the channels (one register per 16): left alone, GCC unrolls a fixed-width
// channel loop and vectorises across pixels with shuffles, 3x slower.
template <int kChannels>
inline void gradient_sums(const float* __restrict x, const float* __restrict dy, long positions,
                          int channels, const float* mean, float* __restrict sum_dy,
                          float* __restrict sum_dy_xc) {
  const int C = kChannels > 0 ? kChannels : channels;
  for (int c = 0; c < C; ++c) sum_dy[c] = sum_dy_xc[c] = 0.f;
  for (long p = 0; p < positions; ++p) {
#pragma omp simd
    for (int c = 0; c < C; ++c) {
      const float g = dy[p * C + c];
      sum_dy[c] += g;
      sum_dy_xc[c] += g * (x[p * C + c] - mean[c]);
    }
  }
}

// dx = k1[c] * dy + k2[c] * x + k3[c]: a norm's input gradient once its sums are known.
template <int kChannels>
inline void input_gradient(const float* __restrict x, const float* __restrict dy,
                           float* __restrict dx, long positions, int channels, const float* k1,
                           const float* k2, const float* k3) {
  const int C = kChannels > 0 ? kChannels : channels;
  for (long p = 0; p < positions; ++p) {
#pragma omp simd
    for (int c = 0; c < C; ++c) dx[p * C + c] = k1[c] * dy[p * C + c] + k2[c] * x[p * C + c] + k3[c];
  }
}

}  // namespace normlab
