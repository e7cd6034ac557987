#include "normlab/engine/ops/dropout.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "normlab/base/random.hpp"

namespace normlab {

DropoutMask::DropoutMask(Builder& b, long count, float probability)
    : count_(count), probability_(probability) {
  slot_ = b.arena().reserve(Region::saved, std::size_t(count_));
  layer_id_ = b.count_of("dropout");
  b.next_name("dropout");
}

void DropoutMask::bind(const Arena& arena) { mask_ = arena.as<std::uint8_t>(slot_); }

void DropoutMask::keep_all() const { std::memset(mask_, 1, std::size_t(count_)); }

// 16 random bits decide one element, so one 64-bit draw serves four elements: element
// 4g + k keeps iff draw g's k-th 16-bit lane (little-endian) is at least the threshold.
void DropoutMask::draw(const StepKey& step, long begin, long end) const {
  if (probability_ == 0.f) {
    std::memset(mask_ + begin, 1, std::size_t(end - begin));
    return;
  }
  const RandomKey key = RandomKey(step.seed, Purpose::dropout)
                            .then(std::uint64_t(step.epoch))
                            .then(std::uint64_t(step.step))
                            .then(std::uint64_t(layer_id_));
  const std::uint16_t threshold = std::uint16_t(probability_ * 65536.f);
  // Blocks of draws: hashing a block is a pure loop of 64-bit multiplies the compiler
  // vectorises, and the element loop then reads the draws as 16-bit lanes.
  constexpr long kBlock = 256;
  std::uint8_t* __restrict mask = mask_;
  for (long first = begin / 4; first * 4 < end; first += kBlock) {
    alignas(64) std::uint64_t draws[kBlock];
    const long drawn = std::min(kBlock, (end - first * 4 + 3) / 4);
    for (long j = 0; j < drawn; ++j) draws[j] = key.bits(std::uint64_t(first + j));
    static_assert(std::endian::native == std::endian::little, "lanes are read little-endian");
    std::uint16_t lanes[4 * kBlock];
    std::memcpy(lanes, draws, sizeof(draws));
    const long from = std::max(begin, first * 4), to = std::min(end, (first + drawn) * 4);
    for (long i = from; i < to; ++i) mask[i] = lanes[i - first * 4] >= threshold;
  }
}

DropoutOp::DropoutOp(Builder& b, const Tensor& in, Config config) : in_(in) {
  out_ = b.in_place_output(in);
  count_ = long(b.batch()) * in.shape.size();
  mask_ = DropoutMask(b, count_, config.probability);
}

void DropoutOp::bind(const Arena& arena) {
  x_ = arena.as<float>(in_.value);
  y_ = arena.as<float>(out_.value);
  mask_.bind(arena);
  if (in_.has_grad()) {
    dy_ = arena.as<float>(out_.grad);
    dx_ = arena.as<float>(in_.grad);
  }
}

// Both passes work in place on the output: when the output has buffers of its own (the input
// is read again), the input is copied there first.
void DropoutOp::forward(const dnnl::stream&, Pass pass, const StepKey& step) const {
  if (y_ != x_) std::memcpy(y_, x_, std::size_t(count_) * sizeof(float));
  if (pass == Pass::eval || mask_.probability() == 0.f) {
    mask_.keep_all();
    return;
  }
  const float scale = mask_.scale();
  // Blocks of elements: the block's mask is drawn, then applied while it is in cache.
  constexpr long kBlock = 4096;
  const long blocks = (count_ + kBlock - 1) / kBlock;
  float* __restrict y = y_;
  const std::uint8_t* __restrict keep = mask_.keep();
  const long count = count_;
#pragma omp parallel for schedule(static)
  for (long b = 0; b < blocks; ++b) {
    const long begin = b * kBlock, end = std::min(count, begin + kBlock);
    mask_.draw(step, begin, end);
    // The multiply outside the select: GCC's default trapping math vectorises no
    // conditional multiply.
    for (long i = begin; i < end; ++i) {
      const float scaled = y[i] * scale;
      y[i] = keep[i] ? scaled : 0.f;
    }
  }
}

void DropoutOp::backward(const dnnl::stream&) const {
  if (dx_ == nullptr) return;
  const float scale = mask_.scale();
  if (dx_ != dy_) std::memcpy(dx_, dy_, std::size_t(count_) * sizeof(float));
  const std::uint8_t* __restrict mask = mask_.keep();
  float* __restrict dx = dx_;
  const long count = count_;
#pragma omp parallel for schedule(static)
  for (long i = 0; i < count; ++i) {
    const float scaled = dx[i] * scale;  // outside the select, as in forward
    dx[i] = mask[i] ? scaled : 0.f;
  }
}

}  // namespace normlab
