// One allocation for everything a network needs (TensorFlow Lite Micro's "tensor arena"):
// layers reserve slots while the network is built, the arena is allocated once, then every
// layer resolves its slots to pointers. Nothing is allocated after that.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string_view>

namespace normlab {

// What a slot holds; the memory plan reports bytes per region.
enum class Region {
  parameters,   // weights, contiguous, the optimizer walks them as one block
  gradients,    // mirrors parameters offset for offset
  momentum,     // optimizer state, mirrors parameters too
  buffers,      // BatchNorm running statistics (state, not trained)
  activations,  // layer outputs kept for backward
  activation_gradients,
  saved,        // statistics, masks and workspaces saved by forward for backward
  scratchpad,   // oneDNN's scratch space, shared by all primitives (they run one at a time)
  count
};

std::string_view region_name(Region r);

struct Slot {
  Region region = Region::count;
  std::size_t offset = 0;
  std::size_t bytes = 0;
  bool valid() const { return region != Region::count; }
};

// Bytes per region; the memory plan the CLI prints.
struct MemoryPlan {
  std::array<std::size_t, std::size_t(Region::count)> bytes{};
  std::size_t total() const;
};

class Arena {
 public:
  static constexpr std::size_t kAlignment = 64;  // a cache line, and what AVX-512 likes

  // Planning phase.
  Slot reserve(Region region, std::size_t bytes);
  // Parameters get their gradient and momentum at the same offset of the mirror regions.
  Slot reserve_parameter(std::size_t floats);
  void reserve_scratchpad(std::size_t bytes);  // the shared scratchpad grows to the largest need

  // The one allocation (zero-filled). After it, no more reservations.
  void allocate();
  bool allocated() const { return memory_ != nullptr; }

  std::byte* at(const Slot& slot) const;
  template <class T>
  T* as(const Slot& slot) const { return reinterpret_cast<T*>(at(slot)); }
  std::byte* region_begin(Region r) const;
  std::size_t region_bytes(Region r) const { return plan_.bytes[std::size_t(r)]; }
  Slot mirror(const Slot& parameter, Region mirror_region) const;
  const MemoryPlan& plan() const { return plan_; }

 private:
  struct FreeDeleter {
    void operator()(std::byte* p) const;
  };
  MemoryPlan plan_;
  std::array<std::size_t, std::size_t(Region::count)> base_{};
  std::unique_ptr<std::byte, FreeDeleter> memory_;
};

}  // namespace normlab
