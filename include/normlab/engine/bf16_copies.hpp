// The bf16 copies a bf16 convolution reads: of its input, and of its output's gradient. The op
// that writes those f32 values (a norm, forward and backward) can write the copy in the same
// pass, per image while the values are in cache, instead of the convolution converting them
// in a pass of its own (a oneDNN reorder per chunk). The two agree while the network is built:
// the writer offers, the convolution asks with the slot it reserved for the copy; at bind each
// looks up whether the other came. A tensor rewritten in place or summed into gets a new id
// (Builder), so a copy of values that changed afterwards is never agreed.
#pragma once

#include <cstdint>
#include <vector>

#include "normlab/engine/arena.hpp"
#include "normlab/engine/tensor.hpp"

namespace normlab {

enum class Bf16Side { value, gradient };

class Bf16Copies {
 public:
  // Off, every convolution converts its own copies: with f32, and where the CPU has no native
  // conversion (convert_to_bf16 rounds as the instruction does, which oneDNN then uses).
  explicit Bf16Copies(bool enabled = false) : enabled_(enabled) {}
  void offer(const Tensor& t, Bf16Side side);
  void ask(const Tensor& t, Bf16Side side, const Slot& copy);
  // Once the network is built: the copy both sides agreed on, or an invalid slot.
  Slot agreed(const Tensor& t, Bf16Side side) const;
  int agreed_count() const;

 private:
  struct Entry {
    int tensor = -1;
    Bf16Side side = Bf16Side::value;
    bool offered = false;
    Slot copy;  // valid once asked
  };
  Entry& entry(const Tensor& t, Bf16Side side);
  bool enabled_;
  std::vector<Entry> entries_;
};

// The writer's side, for an op that writes its output's values and its input's gradient: it
// offers both copies while the network is built, and after each piece of either it writes,
// converts that piece into the copy a convolution asked for (nothing where none asked).
class Bf16Writer {
 public:
  Bf16Writer() = default;
  Bf16Writer(Bf16Copies& copies, const Tensor& in, const Tensor& out);
  void bind(const Arena& arena);
  // The op wrote elements [offset, offset + n) of its output (of its input's gradient).
  void wrote_value(const float* out, long offset, long n) const;
  void wrote_gradient(const float* in_grad, long offset, long n) const;

 private:
  const Bf16Copies* copies_ = nullptr;
  Tensor in_, out_;
  std::uint16_t* value_ = nullptr;
  std::uint16_t* gradient_ = nullptr;
};

// y[i] = bf16(x[i]) as VCVTNEPS2BF16 converts (oneDNN's reorders on CPUs with AVX512_BF16 or
// AMX): round to nearest even; zero and denormal inputs give a zero of their sign; a NaN stays
// a NaN, made quiet.
void convert_to_bf16(const float* x, std::uint16_t* y, long n);

}  // namespace normlab
