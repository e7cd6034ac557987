#include "normlab/engine/ops/pool.hpp"

#include "normlab/engine/ops/channel_count.hpp"

namespace normlab {

PoolOp::PoolOp(Builder& b, const Tensor& in, Config config)
    : chunks_(&b.chunks()), in_(in), max_(config.max), channels_(in.shape.c), h_(in.shape.h),
      w_(in.shape.w), images_per_chunk_(b.chunks().plan().images) {
  out_h_ = max_ ? h_ / 2 : 1;
  out_w_ = max_ ? w_ / 2 : 1;
  out_ = b.make_activation({channels_, out_h_, out_w_}, in.has_grad());
  if (max_)
    argmax_slot_ = b.arena().reserve(Region::saved, std::size_t(b.batch()) * out_.shape.size());
  b.next_name(max_ ? "maxpool" : "avgpool");
  bf16_ = Bf16Writer(b.bf16_copies(), in_, out_);
}

void PoolOp::bind(const Arena& arena) {
  x_ = arena.as<float>(in_.value);
  y_ = arena.as<float>(out_.value);
  if (max_) argmax_ = arena.as<std::uint8_t>(argmax_slot_);
  bf16_.bind(arena);
  if (in_.has_grad()) {  // pooling the network input: nothing to propagate
    dy_ = arena.as<float>(out_.grad);
    dx_ = arena.as<float>(in_.grad);
  }
}

void PoolOp::forward(const dnnl::stream&, Pass, const StepKey&) const {
  const long out_size = long(out_h_) * out_w_ * channels_;
  chunks_->for_each([&](int k, const Lane&) {
    for (long i = long(k) * images_per_chunk_; i < long(k + 1) * images_per_chunk_; ++i) {
      max_ ? max_forward(i) : average_forward(i);
      bf16_.wrote_value(y_, i * out_size, out_size);
    }
  });
}

void PoolOp::backward(const dnnl::stream&) const {
  if (dx_ == nullptr) return;
  const long in_size = long(h_) * w_ * channels_;
  chunks_->for_each([&](int k, const Lane&) {
    for (long i = long(k) * images_per_chunk_; i < long(k + 1) * images_per_chunk_; ++i) {
      max_ ? max_backward(i) : average_backward(i);
      bf16_.wrote_gradient(dx_, i * in_size, in_size);
    }
  });
}

namespace {

// The window's values in order (0,0), (0,1), (1,0), (1,1); a later one wins only if larger.
// Selects, not branches: the winner is data-dependent, and a branch per value mispredicted
// about half the time (30 ns an output on scalar code).
template <int kChannels>
void max_forward_image(const float* __restrict x, int h, int w, int channels,
                       float* __restrict y, std::uint8_t* __restrict winner) {
  const int C = kChannels != 0 ? kChannels : channels;
  const int out_h = h / 2, out_w = w / 2;
  for (int oh = 0; oh < out_h; ++oh)
    for (int ow = 0; ow < out_w; ++ow) {
      const float* p0 = x + (long(2 * oh) * w + 2 * ow) * C;
      const float* p1 = p0 + C;
      const float* p2 = p0 + long(w) * C;
      const float* p3 = p2 + C;
      const long o = (long(oh) * out_w + ow) * C;
#pragma omp simd
      for (int c = 0; c < C; ++c) {
        float m = p0[c];
        std::uint8_t k = 0;
        const bool b1 = p1[c] > m;
        m = b1 ? p1[c] : m;
        k = b1 ? 1 : k;
        const bool b2 = p2[c] > m;
        m = b2 ? p2[c] : m;
        k = b2 ? 2 : k;
        const bool b3 = p3[c] > m;
        m = b3 ? p3[c] : m;
        k = b3 ? 3 : k;
        y[o + c] = m;
        winner[o + c] = k;
      }
    }
}

template <int kChannels>
void max_backward_image(const float* __restrict dy, const std::uint8_t* __restrict winner,
                        int h, int w, int channels, float* __restrict dx) {
  const int C = kChannels != 0 ? kChannels : channels;
  const int out_h = h / 2, out_w = w / 2;
  for (int oh = 0; oh < out_h; ++oh) {
    for (int ow = 0; ow < out_w; ++ow) {
      float* q0 = dx + (long(2 * oh) * w + 2 * ow) * C;
      float* q1 = q0 + C;
      float* q2 = q0 + long(w) * C;
      float* q3 = q2 + C;
      const long o = (long(oh) * out_w + ow) * C;
#pragma omp simd
      for (int c = 0; c < C; ++c) {
        const float g = dy[o + c];
        const std::uint8_t k = winner[o + c];
        q0[c] = k == 0 ? g : 0.f;
        q1[c] = k == 1 ? g : 0.f;
        q2[c] = k == 2 ? g : 0.f;
        q3[c] = k == 3 ? g : 0.f;
      }
    }
    if (w % 2 != 0)  // an odd width's last column is in no window
      for (int r = 2 * oh; r < 2 * oh + 2; ++r)
        for (int c = 0; c < C; ++c) dx[(long(r) * w + w - 1) * C + c] = 0.f;
  }
  if (h % 2 != 0)  // and an odd height's last row
    for (long j = long(h - 1) * w * C; j < long(h) * w * C; ++j) dx[j] = 0.f;
}

}  // namespace

// The networks' pooled widths (10, 16, 32 channels) get their own instantiation: with a
// run-time count GCC vectorised blocks of 32 channels only (the winner is a byte) and ran 10 or
// 16 channels as scalar code.
void PoolOp::max_forward(long image) const {
  const long in_size = long(h_) * w_ * channels_, out_size = long(out_h_) * out_w_ * channels_;
  with_channel_count<10, 16, 32>(channels_, [&](auto c) {
    max_forward_image<decltype(c)::value>(x_ + image * in_size, h_, w_, channels_,
                                          y_ + image * out_size, argmax_ + image * out_size);
  });
}

void PoolOp::max_backward(long image) const {
  const long in_size = long(h_) * w_ * channels_, out_size = long(out_h_) * out_w_ * channels_;
  with_channel_count<10, 16, 32>(channels_, [&](auto c) {
    max_backward_image<decltype(c)::value>(dy_ + image * out_size, argmax_ + image * out_size,
                                           h_, w_, channels_, dx_ + image * in_size);
  });
}

void PoolOp::average_forward(long image) const {
  const int C = channels_;
  const long pixels = long(h_) * w_;
  const float* __restrict x = x_ + image * pixels * C;
  float* __restrict y = y_ + image * C;
  for (int c = 0; c < C; ++c) y[c] = 0.f;
  for (long p = 0; p < pixels; ++p) {
#pragma omp simd
    for (int c = 0; c < C; ++c) y[c] += x[p * C + c];
  }
  const float inverse = 1.f / float(pixels);
  for (int c = 0; c < C; ++c) y[c] *= inverse;
}

void PoolOp::average_backward(long image) const {
  const int C = channels_;
  const long pixels = long(h_) * w_;
  float* __restrict dx = dx_ + image * pixels * C;
  const float* __restrict dy = dy_ + image * C;
  const float inverse = 1.f / float(pixels);
  for (long p = 0; p < pixels; ++p) {
#pragma omp simd
    for (int c = 0; c < C; ++c) dx[p * C + c] = dy[c] * inverse;
  }
}

}  // namespace normlab
