// One allocation for everything a network needs (TensorFlow Lite Micro's "tensor arena"):
// layers reserve slots while the network is built, the arena is allocated once, then every
// layer resolves its slots to pointers. Nothing is allocated after that.
//
// Activation gradients are planned by lifetime, as TFLite Micro plans its buffers: each knows
// the top-level layers whose backward touches it (`note_use`), and at allocate() a greedy
// first-fit (largest first) lets gradients whose layer ranges do not meet share memory. During
// backward only a few of them are alive at once.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace normlab {

// What a slot holds; the memory plan reports bytes per region.
enum class Region {
  parameters,   // weights, contiguous, the optimizer walks them as one block
  gradients,    // mirrors parameters offset for offset
  momentum,     // optimizer state, mirrors parameters too
  buffers,      // BatchNorm running statistics (state, not trained)
  activations,  // layer outputs kept for backward
  activation_gradients,
  saved,        // statistics and masks saved by forward for backward, activation copies
  weight_copies,  // weights as a kernel wants them: blocked layouts, packed, standardised
  workspace,    // what one layer's forward or backward uses and drops, shared by all layers
  scratchpad,   // oneDNN's scratch space: one lane per chunk that may run at once (chunks.hpp)
  count
};

std::string_view region_name(Region r);

struct Slot {
  Region region = Region::count;
  std::size_t offset = 0;  // bytes from the region's start (activation gradients: set by the plan)
  std::size_t bytes = 0;
  int lifetime = -1;  // activation gradients: the index of its lifetime in the plan
  bool valid() const { return region != Region::count; }
};

// Bytes per region; the memory plan the CLI prints.
struct MemoryPlan {
  std::array<std::size_t, std::size_t(Region::count)> bytes{};
  std::size_t gradients_unplanned = 0;  // activation gradients if each had its own memory
  std::size_t total() const;
};

// One activation gradient's place in the plan: its bytes, the range of top-level layers whose
// backward reads or writes it, and (after planning) its offset in the region.
struct GradientLifetime {
  std::size_t bytes = 0;
  int first = 0, last = -1;  // inclusive; empty until the first use
  std::size_t offset = 0;
  bool meets(const GradientLifetime& o) const { return first <= o.last && o.first <= last; }
};

class Arena {
 public:
  static constexpr std::size_t kAlignment = 64;  // a cache line, and what AVX-512 likes

  // Planning phase.
  Slot reserve(Region region, std::size_t bytes);
  // Parameters get their gradient and momentum at the same offset of the mirror regions.
  Slot reserve_parameter(std::size_t floats);
  // Room a layer needs only while one of its passes runs (chunks' partial sums): every layer's
  // workspace starts at the same place, so the region is as large as the largest need.
  Slot reserve_workspace(std::size_t bytes);
  void reserve_scratchpad(std::size_t bytes);  // each lane grows to the largest need
  // Chunks of a batch run at once, each with a scratchpad of its own: the region holds `lanes`.
  void set_scratchpad_lanes(int lanes);
  // The backward of top-level layer `layer` reads or writes this activation gradient.
  void note_use(const Slot& gradient, int layer);

  // The one allocation (zero-filled). After it, no more reservations.
  void allocate();
  bool allocated() const { return memory_ != nullptr; }

  std::byte* at(const Slot& slot) const;
  template <class T>
  T* as(const Slot& slot) const { return reinterpret_cast<T*>(at(slot)); }
  std::byte* region_begin(Region r) const;
  std::size_t region_bytes(Region r) const { return plan_.bytes[std::size_t(r)]; }
  Slot mirror(const Slot& parameter, Region mirror_region) const;
  std::byte* scratchpad_lane(int lane) const;
  std::size_t scratchpad_lane_bytes() const { return scratchpad_lane_bytes_; }
  const MemoryPlan& plan() const { return plan_; }
  const std::vector<GradientLifetime>& gradient_lifetimes() const { return lifetimes_; }

 private:
  struct FreeDeleter {
    void operator()(std::byte* p) const;
  };
  MemoryPlan plan_;
  std::vector<GradientLifetime> lifetimes_;
  std::array<std::size_t, std::size_t(Region::count)> base_{};
  std::size_t scratchpad_lane_bytes_ = 0;
  int scratchpad_lanes_ = 1;
  std::unique_ptr<std::byte, FreeDeleter> memory_;
};

}  // namespace normlab
