#include "normlab/engine/ops/pool.hpp"

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
}

void PoolOp::bind(const Arena& arena) {
  x_ = arena.as<float>(in_.value);
  y_ = arena.as<float>(out_.value);
  if (max_) argmax_ = arena.as<std::uint8_t>(argmax_slot_);
  if (in_.has_grad()) {  // pooling the network input: nothing to propagate
    dy_ = arena.as<float>(out_.grad);
    dx_ = arena.as<float>(in_.grad);
  }
}

void PoolOp::forward(const dnnl::stream&, Pass, const StepKey&) const {
  chunks_->for_each([this](int k, const Lane&) {
    for (long i = long(k) * images_per_chunk_; i < long(k + 1) * images_per_chunk_; ++i)
      max_ ? max_forward(i) : average_forward(i);
  });
}

void PoolOp::backward(const dnnl::stream&) const {
  if (dx_ == nullptr) return;
  chunks_->for_each([this](int k, const Lane&) {
    for (long i = long(k) * images_per_chunk_; i < long(k + 1) * images_per_chunk_; ++i)
      max_ ? max_backward(i) : average_backward(i);
  });
}

// The window's values in order (0,0), (0,1), (1,0), (1,1); a later one wins only if larger.
void PoolOp::max_forward(long image) const {
  const int C = channels_;
  const float* __restrict x = x_ + image * h_ * w_ * C;
  float* __restrict y = y_ + image * out_h_ * out_w_ * C;
  std::uint8_t* __restrict winner = argmax_ + image * out_h_ * out_w_ * C;
  for (int oh = 0; oh < out_h_; ++oh)
    for (int ow = 0; ow < out_w_; ++ow) {
      const float* p0 = x + (long(2 * oh) * w_ + 2 * ow) * C;
      const float* p1 = p0 + C;
      const float* p2 = p0 + long(w_) * C;
      const float* p3 = p2 + C;
      const long o = (long(oh) * out_w_ + ow) * C;
#pragma omp simd
      for (int c = 0; c < C; ++c) {
        float m = p0[c];
        std::uint8_t k = 0;
        if (p1[c] > m) m = p1[c], k = 1;
        if (p2[c] > m) m = p2[c], k = 2;
        if (p3[c] > m) m = p3[c], k = 3;
        y[o + c] = m;
        winner[o + c] = k;
      }
    }
}

void PoolOp::max_backward(long image) const {
  const int C = channels_;
  float* __restrict dx = dx_ + image * h_ * w_ * C;
  const float* __restrict dy = dy_ + image * out_h_ * out_w_ * C;
  const std::uint8_t* __restrict winner = argmax_ + image * out_h_ * out_w_ * C;
  for (int oh = 0; oh < out_h_; ++oh) {
    for (int ow = 0; ow < out_w_; ++ow) {
      float* q0 = dx + (long(2 * oh) * w_ + 2 * ow) * C;
      float* q1 = q0 + C;
      float* q2 = q0 + long(w_) * C;
      float* q3 = q2 + C;
      const long o = (long(oh) * out_w_ + ow) * C;
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
    if (w_ % 2 != 0)  // an odd width's last column is in no window
      for (int r = 2 * oh; r < 2 * oh + 2; ++r)
        for (int c = 0; c < C; ++c) dx[(long(r) * w_ + w_ - 1) * C + c] = 0.f;
  }
  if (h_ % 2 != 0)  // and an odd height's last row
    for (long j = long(h_ - 1) * w_ * C; j < long(h_) * w_ * C; ++j) dx[j] = 0.f;
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
