// The layer vocabulary networks are declared with. Each layer type states, at compile time,
// what it does to a shape and how many parameters and FLOPs it costs. Which run-time op
// executes it is the engine's business (include/normlab/engine/layer_ops.hpp), so a network's
// declaration compiles without oneDNN.
#pragma once

#include <string_view>

#include "normlab/net/shape.hpp"

namespace normlab {

// How a convolution's weights enter it: as trained, or standardised per output channel
// (weight standardisation; no extra parameters).
enum class ConvWeights { plain, standardized };

// Convolution without bias, stride 1; 3x3 pads by 1 so the image keeps its size.
template <int Out, int Kernel, ConvWeights Weights = ConvWeights::plain>
struct Conv {
  static_assert(Kernel == 1 || Kernel == 3, "convolutions are 1x1 or 3x3");
  static constexpr bool standardized = Weights == ConvWeights::standardized;
  static constexpr std::string_view kind =
      Kernel == 3 ? (standardized ? "WSConv3x3" : "Conv3x3") : (standardized ? "WSConv1x1" : "Conv1x1");
  static constexpr Shape output(Shape in) { return {Out, in.h, in.w}; }
  static constexpr long parameters(Shape in) { return long(Out) * in.c * Kernel * Kernel; }
  static constexpr double flops(Shape in) {
    return 2.0 * parameters(in) * in.h * in.w;
  }
  // Backward computes two products as costly as the forward: the data and the weight gradient;
  // the weight gradient alone where the input has no gradient (a network's first layer).
  static constexpr double backward_flops(Shape in, bool input_gradient) {
    return (input_gradient ? 2.0 : 1.0) * flops(in);
  }
};
template <int Out>
using Conv3x3 = Conv<Out, 3>;
template <int Out>
using Conv1x1 = Conv<Out, 1>;

// Layers that keep the shape and have no parameters share these traits.
struct ShapeKeeping {
  static constexpr Shape output(Shape in) { return in; }
  static constexpr long parameters(Shape) { return 0; }
  static constexpr double flops(Shape in) { return double(in.size()); }
};

struct Relu : ShapeKeeping {
  static constexpr std::string_view kind = "ReLU";
};

// Dropout probability in percent (a template argument must be exact).
template <int Percent>
struct Dropout : ShapeKeeping {
  static constexpr std::string_view kind = "Dropout";
  static constexpr float probability = Percent / 100.f;
};

// Normalisations: a per-channel scale and shift each.
struct PerChannelAffine {
  static constexpr Shape output(Shape in) { return in; }
  static constexpr long parameters(Shape in) { return 2L * in.c; }
  static constexpr double flops(Shape in) { return 8.0 * in.size(); }
};

struct BatchNorm : PerChannelAffine {
  static constexpr std::string_view kind = "BatchNorm";
};

// GroupNorm's group count: a fixed G, or kGroupsOfTheRun, the run's --groups (the seed's 4
// unless given), checked against every normalised layer when the network is built.
inline constexpr int kGroupsOfTheRun = 0;
inline constexpr int kSeedGroups = 4;

template <int Groups>
struct GroupNorm : PerChannelAffine {
  static constexpr std::string_view kind = "GroupNorm";
  static constexpr int groups = Groups;
  static constexpr Shape output(Shape in) {
    if (Groups != kGroupsOfTheRun && in.c % Groups != 0)
      throw "GroupNorm: channels must divide into the groups";
    return in;
  }
};

// LayerNorm over (C, H, W) per sample: GroupNorm with a single group, as the seed uses it.
struct LayerNorm : PerChannelAffine {
  static constexpr std::string_view kind = "LayerNorm";
};

// InstanceNorm: GroupNorm with one channel per group (each channel of each image normalised
// over its pixels), with a per-channel scale and shift like the others.
struct InstanceNorm : PerChannelAffine {
  static constexpr std::string_view kind = "InstanceNorm";
};

// No normalisation: the control. A chain drops it where a norm would stand (chain.hpp), so
// the network is the same with each norm layer removed, and its parameters fewer.
struct NoNorm {};

struct MaxPool2 {
  static constexpr std::string_view kind = "MaxPool2x2";
  static constexpr Shape output(Shape in) { return {in.c, in.h / 2, in.w / 2}; }
  static constexpr long parameters(Shape) { return 0; }
  static constexpr double flops(Shape in) { return double(in.size()); }
};

struct GlobalAvgPool {
  static constexpr std::string_view kind = "GlobalAvgPool";
  static constexpr Shape output(Shape in) { return {in.c, 1, 1}; }
  static constexpr long parameters(Shape) { return 0; }
  static constexpr double flops(Shape in) { return double(in.size()); }
};

// A group of layers spliced into a chain as if written out (e.g. a conv-ReLU-norm block).
template <class... Layers>
struct Seq {};

}  // namespace normlab
