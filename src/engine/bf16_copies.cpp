#include "normlab/engine/bf16_copies.hpp"

#include <bit>

namespace normlab {

namespace {
int id_of(const Tensor& t, Bf16Side side) { return side == Bf16Side::value ? t.value_id : t.grad_id; }
}  // namespace

Bf16Copies::Entry& Bf16Copies::entry(const Tensor& t, Bf16Side side) {
  for (Entry& e : entries_)
    if (e.tensor == id_of(t, side) && e.side == side) return e;
  entries_.push_back({id_of(t, side), side, false, {}});
  return entries_.back();
}

void Bf16Copies::offer(const Tensor& t, Bf16Side side) {
  if (enabled_ && id_of(t, side) >= 0) entry(t, side).offered = true;
}

void Bf16Copies::ask(const Tensor& t, Bf16Side side, const Slot& copy) {
  if (enabled_ && id_of(t, side) >= 0) entry(t, side).copy = copy;
}

Slot Bf16Copies::agreed(const Tensor& t, Bf16Side side) const {
  for (const Entry& e : entries_)
    if (e.tensor == id_of(t, side) && e.side == side && e.offered) return e.copy;
  return {};
}

int Bf16Copies::agreed_count() const {
  int n = 0;
  for (const Entry& e : entries_) n += e.offered && e.copy.valid() ? 1 : 0;
  return n;
}

Bf16Writer::Bf16Writer(Bf16Copies& copies, const Tensor& in, const Tensor& out)
    : copies_(&copies), in_(in), out_(out) {
  copies.offer(out, Bf16Side::value);
  if (in.has_grad()) copies.offer(in, Bf16Side::gradient);
}

void Bf16Writer::bind(const Arena& arena) {
  if (copies_ == nullptr) return;
  auto copy = [&](const Tensor& t, Bf16Side side) {
    const Slot slot = copies_->agreed(t, side);
    return slot.valid() ? arena.as<std::uint16_t>(slot) : nullptr;
  };
  value_ = copy(out_, Bf16Side::value);
  gradient_ = in_.has_grad() ? copy(in_, Bf16Side::gradient) : nullptr;
}

void Bf16Writer::wrote_value(const float* out, long offset, long n) const {
  if (value_ != nullptr) convert_to_bf16(out + offset, value_ + offset, n);
}

void Bf16Writer::wrote_gradient(const float* in_grad, long offset, long n) const {
  if (gradient_ != nullptr) convert_to_bf16(in_grad + offset, gradient_ + offset, n);
}

void convert_to_bf16(const float* __restrict x, std::uint16_t* __restrict y, long n) {
#pragma omp simd
  for (long i = 0; i < n; ++i) {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(x[i]);
    const std::uint32_t magnitude = u & 0x7fffffffu;
    const std::uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const std::uint32_t zero = (u & 0x80000000u) >> 16;
    const std::uint32_t quiet_nan = (u >> 16) | 0x40u;
    std::uint32_t r = rounded;
    r = magnitude < 0x00800000u ? zero : r;
    r = magnitude > 0x7f800000u ? quiet_nan : r;
    y[i] = std::uint16_t(r);
  }
}

}  // namespace normlab
