#include "normlab/engine/conv3x3_kernels.hpp"

#include <algorithm>
#include <cstdlib>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace normlab::conv3x3 {

std::size_t packed_weights_floats(const Problem& p) {
  return std::size_t(9) * p.in_channels * p.out_channels;
}

void pack_forward_weights(const Problem& p, const float* oihw, float* packed) {
  const int C = p.in_channels, OC = p.out_channels;
  for (int o = 0; o < OC; ++o)
    for (int i = 0; i < C; ++i)
      for (int t = 0; t < 9; ++t) packed[(long(t) * C + i) * OC + o] = oihw[(long(o) * C + i) * 9 + t];
}

void pack_backward_data_weights(const Problem& p, const float* oihw, float* packed) {
  const int C = p.in_channels, OC = p.out_channels;
  for (int o = 0; o < OC; ++o)
    for (int i = 0; i < C; ++i)
      for (int t = 0; t < 9; ++t)
        packed[(long(8 - t) * OC + o) * C + i] = oihw[(long(o) * C + i) * 9 + t];
}

#if defined(__AVX512F__)

bool available() { return true; }

namespace {

constexpr int kLanes = 16;

// Output row y of one image, columns [x0, x0 + P), output channels [0, 16 * OB) of `out`
// and `w` (the caller offsets both to the channel blocks). C input channels.
// Each input value is broadcast once and feeds the three taps of its row (kw = 0, 1, 2) of
// every channel block: loads, not FMAs, limit these kernels, so every load must feed several
// FMAs. Per output the sum runs over kh, then input channel c, then kw.
// Left/Right: the segment touches the image's left/right edge, where a tap reads padding.
template <int C, int P, int OB, bool Left, bool Right>
inline void forward_segment(const float* __restrict in, int H, int W, int OC, int y, int x0,
                            const float* __restrict w, float* __restrict out) {
  __m512 acc[OB][P];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 2
    for (int b = 0; b < OB; ++b) acc[b][p] = _mm512_setzero_ps();
  for (int kh = 0; kh < 3; ++kh) {
    const int iy = y + kh - 1;
    if (iy < 0 || iy >= H) continue;
    // Input column x0 - 1 + q is q's column; column -1 is never read (Left).
    const float* row = in + (long(iy) * W + x0) * C - C;
    const float* wk = w + long(kh) * 3 * C * OC;
    for (int c = 0; c < C; ++c) {
      __m512 wv[OB][3];
#pragma GCC unroll 2
      for (int b = 0; b < OB; ++b)
#pragma GCC unroll 3
        for (int kw = 0; kw < 3; ++kw)
          wv[b][kw] = _mm512_loadu_ps(wk + (long(kw) * C + c) * OC + 16 * b);
#pragma GCC unroll 18
      for (int q = 0; q < P + 2; ++q) {
        if (Left && q == 0) continue;           // column -1: padding
        if (Right && q == P + 1) continue;      // column W: padding
        const __m512 v = _mm512_set1_ps(row[q * C + c]);
#pragma GCC unroll 3
        for (int kw = 0; kw < 3; ++kw) {
          const int p = q - kw;  // the output this tap of column q feeds
          if (p < 0 || p >= P) continue;
#pragma GCC unroll 2
          for (int b = 0; b < OB; ++b) acc[b][p] = _mm512_fmadd_ps(v, wv[b][kw], acc[b][p]);
        }
      }
    }
  }
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 2
    for (int b = 0; b < OB; ++b) _mm512_storeu_ps(out + long(x0 + p) * OC + 16 * b, acc[b][p]);
}

template <int C, int P, int OB>
inline void forward_segment_at(const float* in, int H, int W, int OC, int y, int x0,
                               const float* w, float* out) {
  const bool left = x0 == 0, right = x0 + P == W;
  if (left && right) forward_segment<C, P, OB, true, true>(in, H, W, OC, y, x0, w, out);
  else if (left) forward_segment<C, P, OB, true, false>(in, H, W, OC, y, x0, w, out);
  else if (right) forward_segment<C, P, OB, false, true>(in, H, W, OC, y, x0, w, out);
  else forward_segment<C, P, OB, false, false>(in, H, W, OC, y, x0, w, out);
}

// out (N,H,W,OC) = conv(in (N,H,W,C), w [3][3][C][OC]). Rows of 16 pixels x 16 channels, or
// of 8 pixels x 32 channels, in registers.
template <int C>
void forward_pass(int N, int H, int W, int OC, const float* src, const float* w, float* dst) {
  const long image_in = long(H) * W * C, image_out = long(H) * W * OC;
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < N; ++n)
    for (int y = 0; y < H; ++y) {
      const float* in = src + n * image_in;
      float* out_row = dst + n * image_out + long(y) * W * OC;
      int ob = 0;
      for (; ob + 32 <= OC; ob += 32)
        for (int x0 = 0; x0 < W; x0 += 8)
          forward_segment_at<C, 8, 2>(in, H, W, OC, y, x0, w + ob, out_row + ob);
      for (; ob < OC; ob += kLanes)
        for (int x0 = 0; x0 < W; x0 += 16) {
          if (W - x0 >= 16) forward_segment_at<C, 16, 1>(in, H, W, OC, y, x0, w + ob, out_row + ob);
          else forward_segment_at<C, 8, 1>(in, H, W, OC, y, x0, w + ob, out_row + ob);
        }
    }
}

// The input channel counts the kernels are built for.
bool channels_built(int c) { return c == 3 || c == 10 || c == 16 || c == 32; }

void forward_any(int N, int H, int W, int C, int OC, const float* src, const float* w,
                 float* dst) {
  switch (C) {
    case 3: return forward_pass<3>(N, H, W, OC, src, w, dst);
    case 10: return forward_pass<10>(N, H, W, OC, src, w, dst);
    case 16: return forward_pass<16>(N, H, W, OC, src, w, dst);
    case 32: return forward_pass<32>(N, H, W, OC, src, w, dst);
    default: std::abort();  // forward_supported() said no
  }
}

}  // namespace

bool forward_supported(const Problem& p) {
  return p.out_channels % kLanes == 0 && p.width % 8 == 0 && channels_built(p.in_channels);
}

bool backward_data_supported(const Problem& p) {
  return p.in_channels % kLanes == 0 && p.width % 8 == 0 && channels_built(p.out_channels);
}

void forward(const Problem& p, const float* src, const float* packed, float* dst) {
  forward_any(p.batch, p.height, p.width, p.in_channels, p.out_channels, src, packed, dst);
}

void backward_data(const Problem& p, const float* diff_dst, const float* packed,
                   float* diff_src) {
  forward_any(p.batch, p.height, p.width, p.out_channels, p.in_channels, diff_dst, packed,
              diff_src);
}

#else  // no AVX-512 in this build: ConvOp never asks (available() is false)

bool available() { return false; }
bool forward_supported(const Problem&) { return false; }
bool backward_data_supported(const Problem&) { return false; }
void forward(const Problem&, const float*, const float*, float*) { std::abort(); }
void backward_data(const Problem&, const float*, const float*, float*) { std::abort(); }

#endif

}  // namespace normlab::conv3x3
