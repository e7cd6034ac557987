#include "normlab/engine/ops/dropout.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "normlab/base/random.hpp"

namespace normlab {

DropoutOp::DropoutOp(Builder& b, const Tensor& in, Config config)
    : in_(in), probability_(config.probability) {
  out_ = b.in_place_output(in);
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

// Both passes work in place on the output: when the output has buffers of its own (the input
// is read again), the input is copied there first.
void DropoutOp::forward(const dnnl::stream&, Pass pass, const StepKey& step) const {
  if (y_ != x_) std::memcpy(y_, x_, std::size_t(count_) * sizeof(float));
  if (pass == Pass::eval || probability_ == 0.f) {
    std::memset(mask_, 1, std::size_t(count_));
    return;
  }
  const RandomKey key = RandomKey(step.seed, Purpose::dropout)
                            .then(std::uint64_t(step.epoch))
                            .then(std::uint64_t(step.step))
                            .then(std::uint64_t(layer_id_));
  // 16 random bits decide one element, so one 64-bit draw serves four elements: element
  // 4g + k keeps iff bits(g)'s k-th 16-bit lane (little-endian) is at least the threshold.
  const std::uint16_t threshold = std::uint16_t(probability_ * 65536.f);
  const float scale = 1.f / (1.f - probability_);
  const long groups = (count_ + 3) / 4;
  // Blocks of draws: hashing a block is a pure loop of 64-bit multiplies the compiler turns
  // into AVX-512 (vpmullq), and the element loop then reads the draws as 16-bit lanes.
  constexpr long kBlock = 256;
  const long blocks = (groups + kBlock - 1) / kBlock;
  // Local restrict pointers: the mask is bytes, and a byte store may alias anything, so
  // through the members the compiler would reload every pointer per element and not vectorise.
  float* __restrict y = y_;
  std::uint8_t* __restrict mask = mask_;
  const long count = count_;
#pragma omp parallel for schedule(static)
  for (long b = 0; b < blocks; ++b) {
    alignas(64) std::uint64_t draws[kBlock];
    const long first = b * kBlock;
    for (long j = 0; j < kBlock; ++j) draws[j] = key.bits(std::uint64_t(first + j));
    static_assert(std::endian::native == std::endian::little, "lanes are read little-endian");
    std::uint16_t lanes[4 * kBlock];
    std::memcpy(lanes, draws, sizeof(draws));
    const long begin = first * 4, end = std::min(count, begin + 4 * kBlock);
    for (long i = begin; i < end; ++i) {
      const bool keep = lanes[i - begin] >= threshold;
      mask[i] = keep;
      y[i] = keep ? y[i] * scale : 0.f;
    }
  }
}

void DropoutOp::backward(const dnnl::stream&) const {
  if (dx_ == nullptr) return;
  const float scale = probability_ == 0.f ? 1.f : 1.f / (1.f - probability_);
  if (dx_ != dy_) std::memcpy(dx_, dy_, std::size_t(count_) * sizeof(float));
  const std::uint8_t* __restrict mask = mask_;
  float* __restrict dx = dx_;
  const long count = count_;
#pragma omp parallel for schedule(static)
  for (long i = 0; i < count; ++i) dx[i] = mask[i] ? dx[i] * scale : 0.f;
}

}  // namespace normlab
