#include "normlab/arena.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace normlab {

namespace {
std::size_t round_up(std::size_t n) { return (n + Arena::kAlignment - 1) / Arena::kAlignment * Arena::kAlignment; }
}  // namespace

std::string_view region_name(Region r) {
  switch (r) {
    case Region::parameters: return "parameters";
    case Region::gradients: return "gradients";
    case Region::momentum: return "optimizer state";
    case Region::buffers: return "running statistics";
    case Region::activations: return "activations";
    case Region::activation_gradients: return "activation gradients";
    case Region::saved: return "saved for backward";
    case Region::scratchpad: return "oneDNN scratchpad";
    case Region::count: break;
  }
  return "?";
}

std::size_t MemoryPlan::total() const {
  std::size_t sum = 0;
  for (auto b : bytes) sum += b;
  return sum;
}

Slot Arena::reserve(Region region, std::size_t bytes) {
  if (allocated()) throw std::logic_error("arena: reserve after allocate");
  auto& used = plan_.bytes[std::size_t(region)];
  Slot slot{region, used, bytes};
  used += round_up(bytes);
  return slot;
}

Slot Arena::reserve_parameter(std::size_t floats) {
  const std::size_t bytes = floats * sizeof(float);
  Slot slot = reserve(Region::parameters, bytes);
  reserve(Region::gradients, bytes);
  reserve(Region::momentum, bytes);
  return slot;
}

void Arena::reserve_scratchpad(std::size_t bytes) {
  auto& size = plan_.bytes[std::size_t(Region::scratchpad)];
  if (round_up(bytes) > size) size = round_up(bytes);
}

void Arena::allocate() {
  std::size_t offset = 0;
  for (std::size_t r = 0; r < base_.size(); ++r) {
    base_[r] = offset;
    offset += plan_.bytes[r];
  }
  void* p = std::aligned_alloc(kAlignment, offset == 0 ? kAlignment : offset);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, offset);
  memory_.reset(static_cast<std::byte*>(p));
}

std::byte* Arena::region_begin(Region r) const { return memory_.get() + base_[std::size_t(r)]; }

std::byte* Arena::at(const Slot& slot) const {
  if (!allocated() || !slot.valid()) throw std::logic_error("arena: slot resolved before allocate");
  return region_begin(slot.region) + slot.offset;
}

Slot Arena::mirror(const Slot& parameter, Region mirror_region) const {
  return Slot{mirror_region, parameter.offset, parameter.bytes};
}

void Arena::FreeDeleter::operator()(std::byte* p) const { std::free(p); }

}  // namespace normlab
