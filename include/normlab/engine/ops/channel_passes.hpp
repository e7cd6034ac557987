// The per-channel passes both norms run over channels-last values (positions x C), with the
// layers fused around them (norm_fusion.hpp) applied element by element as those layers would.
// kChannels > 0 compiles the channel count in (the per-channel factors stay in registers);
// 0 reads it at run time.
#pragma once

#include <cstdint>

#include "normlab/engine/ops/norm_fusion.hpp"

namespace normlab {

// The norm's input as the norm sees it: after the fused ReLU, if any.
template <Before kBefore>
inline float norm_input(float x) {
  if constexpr (kBefore == Before::relu) return x > 0.f ? x : 0.f;
  return x;
}

// What the layer after the norm keeps for its backward, from the same element as the pass's
// x: the output (a ReLU's backward passes dy where it is positive), or the keep mask and its
// scale 1 / (1 - p) (dropout).
struct AfterState {
  const float* y = nullptr;
  const std::uint8_t* keep = nullptr;
  float scale = 1.f;
};

// The state of the fused layer `after` at element `offset`: the norm's output y (ReLU), or
// the dropout mask `keep` and its scale.
inline AfterState after_state_at(After after, const float* y, const std::uint8_t* keep,
                                 float scale, long offset) {
  if (after == After::relu) return {y + offset, nullptr, 1.f};
  if (after == After::dropout) return {nullptr, keep + offset, scale};
  return {};
}

// The norm's output gradient from the fused layer's: a ReLU's or dropout's backward. The
// pointers come in as local restrict copies: read through the struct inside the loop, GCC
// cannot prove them apart from the sums and leaves the loop scalar. Any multiply happens
// before the select: GCC's default trapping math vectorises no conditional multiply.
template <After kAfter>
inline float norm_output_gradient(float dy, const float* __restrict y,
                                  const std::uint8_t* __restrict keep, float scale, long i) {
  if constexpr (kAfter == After::relu) return y[i] > 0.f ? dy : 0.f;
  if constexpr (kAfter == After::dropout) {
    const float scaled = dy * scale;
    return keep[i] ? scaled : 0.f;
  }
  return dy;
}

// y = after(before(x) * a[c] + b[c]): normalise, scale and shift in one pass, then the fused
// ReLU, or dropout with the mask in `after.keep`.
template <int kChannels, Before kBefore = Before::none, After kAfter = After::none>
inline void scale_and_shift(const float* __restrict x, float* __restrict y, long positions,
                            int channels, const float* a, const float* b,
                            const AfterState& after = {}) {
  const int C = kChannels > 0 ? kChannels : channels;
  const std::uint8_t* __restrict keep = after.keep;
  const float keep_scale = after.scale;
  for (long p = 0; p < positions; ++p) {
#pragma omp simd
    for (int c = 0; c < C; ++c) {
      float t = norm_input<kBefore>(x[p * C + c]) * a[c] + b[c];
      if constexpr (kAfter == After::relu) t = t > 0.f ? t : 0.f;
      if constexpr (kAfter == After::dropout) {
        const float scaled = t * keep_scale;  // outside the select, as above
        t = keep[p * C + c] ? scaled : 0.f;
      }
      y[p * C + c] = t;
    }
  }
}

// The sums a norm's backward needs per channel: of g and of g * (x - mean[c]), where g is the
// norm's output gradient and x its input (both after the fused layers), in float.
// Vectorised across the channels (one register per 16): left alone, GCC unrolls a fixed-width
// channel loop and vectorises across pixels with shuffles, 3x slower.
template <int kChannels, Before kBefore = Before::none, After kAfter = After::none>
inline void gradient_sums(const float* __restrict x, const float* __restrict dy, long positions,
                          int channels, const float* mean, float* __restrict sum_dy,
                          float* __restrict sum_dy_xc, const AfterState& after = {}) {
  const int C = kChannels > 0 ? kChannels : channels;
  const float* __restrict after_y = after.y;
  const std::uint8_t* __restrict keep = after.keep;
  const float keep_scale = after.scale;
  for (int c = 0; c < C; ++c) sum_dy[c] = sum_dy_xc[c] = 0.f;
  for (long p = 0; p < positions; ++p) {
#pragma omp simd
    for (int c = 0; c < C; ++c) {
      const float g = norm_output_gradient<kAfter>(dy[p * C + c], after_y, keep, keep_scale, p * C + c);
      sum_dy[c] += g;
      sum_dy_xc[c] += g * (norm_input<kBefore>(x[p * C + c]) - mean[c]);
    }
  }
}

// dx = k1[c] * g + k2[c] * x + k3[c]: a norm's input gradient once its sums are known, then
// the fused ReLU's backward: zero where the ReLU's input was not positive (there its output
// is x itself, so x serves as the norm's input).
template <int kChannels, Before kBefore = Before::none, After kAfter = After::none>
inline void input_gradient(const float* __restrict x, const float* __restrict dy,
                           float* __restrict dx, long positions, int channels, const float* k1,
                           const float* k2, const float* k3, const AfterState& after = {}) {
  const int C = kChannels > 0 ? kChannels : channels;
  const float* __restrict after_y = after.y;
  const std::uint8_t* __restrict keep = after.keep;
  const float keep_scale = after.scale;
  for (long p = 0; p < positions; ++p) {
#pragma omp simd
    for (int c = 0; c < C; ++c) {
      const float g = norm_output_gradient<kAfter>(dy[p * C + c], after_y, keep, keep_scale, p * C + c);
      dx[p * C + c] = k1[c] * g + k2[c] * x[p * C + c] + k3[c];
    }
  }
  // A second loop over values still in cache: with the mask in the loop above, GCC contracts
  // the sum into other fused multiply-adds than the layered ReLU's input sees (other bits).
  if constexpr (kBefore == Before::relu) {
    for (long i = 0; i < positions * C; ++i) dx[i] = x[i] > 0.f ? dx[i] : 0.f;
  }
}

}  // namespace normlab
