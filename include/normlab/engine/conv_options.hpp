// How the convolutions compute. Both choices are opt-in, recorded in config.json and fixed for
// a run; neither is timed or chosen at run time, so a run stays deterministic.
//  - Mode: oneDNN's direct kernels (the default), or Winograd F(4x4, 3x3) on the 3x3 layers
//    where it measured faster inside the training step (ConvOp::winograd_pays).
//  - Precision: f32 (the default), or bf16 convolution inputs (activations, weights, output
//    gradients) with f32 accumulation and f32 everything else: master weights, their
//    gradients, the optimizer's state, the norms and the loss.
#pragma once

#include <string>
#include <vector>

#include "normlab/base/choices.hpp"

namespace normlab {

enum class ConvMode {
  direct,
  winograd,             // Winograd where ConvOp::winograd_pays says so, direct elsewhere
  winograd_everywhere,  // every layer oneDNN's Winograd supports (the benchmarks' comparison)
  normlab,              // normlab's own 3x3 kernels where they take the layer, f32 only
};

enum class Precision { f32, bf16 };

struct ConvOptions {
  ConvMode mode = ConvMode::direct;
  Precision precision = Precision::f32;
  // bf16: the norms write the bf16 copies their neighbouring convolutions read, in their own
  // passes (bf16_copies.hpp); off, the convolutions convert (the tests' reference). The same bits.
  bool bf16_copies_by_writers = true;
};

// The choices a user has, as on the command line and in config.json (winograd_everywhere is
// the benchmarks' own and not among them).
template <>
struct ChoiceTable<ConvMode> {
  static constexpr std::string_view key = "conv";
  static constexpr Choice<ConvMode> rows[] = {
      {ConvMode::direct, "direct", "oneDNN's direct kernels"},
      {ConvMode::winograd, "winograd", "oneDNN's Winograd on the layers where it measured faster (AVX-512)"},
      {ConvMode::normlab, "normlab", "normlab's own 3x3 kernels for forward and backward data (AVX-512 build)"},
  };
};

template <>
struct ChoiceTable<Precision> {
  static constexpr std::string_view key = "precision";
  static constexpr Choice<Precision> rows[] = {
      {Precision::f32, "f32", "f32 throughout"},
      {Precision::bf16, "bf16", "bf16 convolution inputs, f32 accumulation, master weights, optimizer and norms (AVX-512)"},
  };
};

// Whether this build has normlab's own convolution kernels (it was compiled for AVX-512).
bool normlab_conv_kernels_built();

// Whether oneDNN runs its AVX-512 (avx512_core) convolutions here: oneDNN 2.6 has Winograd and
// bf16 convolutions for such CPUs only.
bool cpu_has_onednn_avx512_convolutions();

// Whether this CPU runs bf16 convolutions natively (AVX512_BF16 or AMX). Without it oneDNN
// emulates bf16, correctly but slower than f32.
bool cpu_has_native_bf16();

}  // namespace normlab
