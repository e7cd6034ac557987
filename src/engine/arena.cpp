#include "normlab/engine/arena.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
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
    case Region::weight_copies: return "weights as kernels want";
    case Region::workspace: return "per-pass workspace";
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
  if (region == Region::activation_gradients) {
    lifetimes_.push_back({round_up(bytes), 0, -1, 0});
    plan_.gradients_unplanned += round_up(bytes);
    return Slot{region, 0, bytes, int(lifetimes_.size()) - 1};
  }
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

Slot Arena::reserve_workspace(std::size_t bytes) {
  if (allocated()) throw std::logic_error("arena: reserve after allocate");
  auto& size = plan_.bytes[std::size_t(Region::workspace)];
  size = std::max(size, round_up(bytes));
  return Slot{Region::workspace, 0, bytes};
}

void Arena::reserve_scratchpad(std::size_t bytes) {
  if (allocated()) throw std::logic_error("arena: reserve after allocate");
  scratchpad_lane_bytes_ = std::max(scratchpad_lane_bytes_, round_up(bytes));
}

void Arena::set_scratchpad_lanes(int lanes) {
  if (allocated()) throw std::logic_error("arena: scratchpad lanes set after allocate");
  if (lanes < 1) throw std::logic_error("arena: a scratchpad needs at least one lane");
  scratchpad_lanes_ = lanes;
}

std::byte* Arena::scratchpad_lane(int lane) const {
  return region_begin(Region::scratchpad) + std::size_t(lane) * scratchpad_lane_bytes_;
}

void Arena::note_use(const Slot& gradient, int layer) {
  if (!gradient.valid()) return;
  GradientLifetime& l = lifetimes_.at(std::size_t(gradient.lifetime));
  if (l.last < l.first) {
    l.first = l.last = layer;
  } else {
    l.first = std::min(l.first, layer);
    l.last = std::max(l.last, layer);
  }
}

namespace {
// Greedy first-fit, largest first: each gradient goes to the lowest offset where it overlaps no
// placed gradient whose lifetime meets its own. Returns the region's size.
std::size_t plan_gradients(std::vector<GradientLifetime>& lifetimes) {
  std::vector<std::size_t> order(lifetimes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return lifetimes[a].bytes > lifetimes[b].bytes; });
  std::vector<std::size_t> placed;
  std::size_t size = 0;
  for (std::size_t i : order) {
    GradientLifetime& g = lifetimes[i];
    std::vector<std::pair<std::size_t, std::size_t>> taken;  // [begin, end) of live neighbours
    for (std::size_t j : placed)
      if (lifetimes[j].meets(g)) taken.push_back({lifetimes[j].offset, lifetimes[j].offset + lifetimes[j].bytes});
    std::sort(taken.begin(), taken.end());
    std::size_t offset = 0;
    for (const auto& [begin, end] : taken) {
      if (offset + g.bytes <= begin) break;
      offset = std::max(offset, end);
    }
    g.offset = offset;
    size = std::max(size, offset + g.bytes);
    placed.push_back(i);
  }
  return size;
}
}  // namespace

void Arena::allocate() {
  for (GradientLifetime& g : lifetimes_)
    if (g.last < g.first) g = {g.bytes, 0, std::numeric_limits<int>::max(), 0};  // unknown: always live
  plan_.bytes[std::size_t(Region::activation_gradients)] = plan_gradients(lifetimes_);
  plan_.bytes[std::size_t(Region::scratchpad)] = scratchpad_lane_bytes_ * std::size_t(scratchpad_lanes_);
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
  if (slot.region == Region::activation_gradients)
    return region_begin(slot.region) + lifetimes_.at(std::size_t(slot.lifetime)).offset;
  return region_begin(slot.region) + slot.offset;
}

Slot Arena::mirror(const Slot& parameter, Region mirror_region) const {
  return Slot{mirror_region, parameter.offset, parameter.bytes};
}

void Arena::FreeDeleter::operator()(std::byte* p) const { std::free(p); }

}  // namespace normlab
