#include "normlab/ops/dropout.hpp"

#include <cstring>

#include "normlab/random.hpp"

namespace normlab {

DropoutOp::DropoutOp(Builder& b, const Tensor& in, Config config)
    : in_(in), probability_(config.probability), counter_(&b.counter()) {
  out_ = b.make_activation(in.shape, in.has_grad());
  count_ = long(b.batch()) * in.shape.size();
  mask_slot_ = b.arena().reserve(Region::saved, std::size_t(count_));
  layer_id_ = b.count_of("dropout");
  b.next_name("dropout");
}

void DropoutOp::bind(const Arena& arena) {
  x_ = arena.as<float>(in_.value);
  y_ = arena.as<float>(out_.value);
  mask_ = arena.as<std::uint8_t>(mask_slot_);
  if (in_.has_grad()) {
    dy_ = arena.as<float>(out_.grad);
    dx_ = arena.as<float>(in_.grad);
  }
}

void DropoutOp::forward(const dnnl::stream&, Pass pass) const {
  if (pass == Pass::eval || probability_ == 0.f) {
    std::memcpy(y_, x_, std::size_t(count_) * sizeof(float));
    std::memset(mask_, 1, std::size_t(count_));
    return;
  }
  const RandomKey key = RandomKey(counter_->seed, Purpose::dropout)
                            .then(std::uint64_t(counter_->epoch))
                            .then(std::uint64_t(counter_->step))
                            .then(std::uint64_t(layer_id_));
  // 16 random bits decide one element, so one 64-bit draw serves four elements.
  const std::uint32_t threshold = std::uint32_t(probability_ * 65536.f);
  const float scale = 1.f / (1.f - probability_);
  // Branch-free over whole groups of four so the compiler can vectorise the hashing.
  const long groups = count_ / 4;
#pragma omp parallel for schedule(static)
  for (long g = 0; g < groups; ++g) {
    const std::uint64_t bits = key.bits(std::uint64_t(g));
    for (int k = 0; k < 4; ++k) {
      const long i = g * 4 + k;
      const bool keep = ((bits >> (16 * k)) & 0xffff) >= threshold;
      mask_[i] = keep;
      y_[i] = keep ? x_[i] * scale : 0.f;
    }
  }
  const std::uint64_t tail_bits = key.bits(std::uint64_t(groups));
  for (long i = groups * 4; i < count_; ++i) {
    const bool keep = ((tail_bits >> (16 * (i - groups * 4))) & 0xffff) >= threshold;
    mask_[i] = keep;
    y_[i] = keep ? x_[i] * scale : 0.f;
  }
}

void DropoutOp::backward(const dnnl::stream&) const {
  if (dx_ == nullptr) return;
  const float scale = probability_ == 0.f ? 1.f : 1.f / (1.f - probability_);
#pragma omp parallel for schedule(static)
  for (long i = 0; i < count_; ++i) dx_[i] = mask_[i] ? dy_[i] * scale : 0.f;
}

}  // namespace normlab
