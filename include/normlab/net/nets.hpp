// The networks, declared once, top to bottom like the assignment's line
//   C1 C2 c3 P1 C4 C5 c6 P2 C7 C8 C9 GAP C10
// (C = 3x3 conv, c = 1x1 conv, P = 2x2 max pool, GAP = global average pool), each with its
// parameter budget asserted right here. Norm is BatchNorm, GroupNorm<G>, LayerNorm,
// InstanceNorm, or NoNorm (the control: each norm layer removed).
#pragma once

#include <type_traits>

#include "normlab/net/chain.hpp"

namespace normlab {

// Fails to compile when a network is over budget; the compiler's message names both numbers
// ("required from ParameterBudget<52304, 50000>").
template <long Parameters, long Budget>
struct ParameterBudget {
  static_assert(Parameters < Budget,
                "network over the parameter budget: ParameterBudget<parameters, budget>");
  static constexpr bool ok = true;
};

// ---- SeedNet: the course assignment's reference model, exactly (35,504 parameters). --------
// Blocks are conv -> ReLU -> norm -> dropout 5 %; the 1x1 transitions are bare convolutions.
// The ReLU stays a separate layer: fused into the convolution as a oneDNN post-op, the training
// step measured slower (46.5 ms against 32.8 ms; docs/performance.md, engine changes).
template <int Out, class Norm>
using SeedBlock = Seq<Conv3x3<Out>, Relu, Norm, Dropout<5>>;

template <class Norm>
using SeedNet = Chain<Input<3, 32, 32>,
    SeedBlock<16, Norm>, SeedBlock<16, Norm>, Conv1x1<10>, MaxPool2,        // C1 C2 c3 P1
    SeedBlock<16, Norm>, SeedBlock<16, Norm>, SeedBlock<32, Norm>,          // C4 C5 C5b
    Conv1x1<16>, MaxPool2,                                                  // c6 P2
    SeedBlock<32, Norm>, SeedBlock<32, Norm>, SeedBlock<32, Norm>,          // C7 C8 C9
    GlobalAvgPool, Conv1x1<10>>;                                            // GAP C10

// The seed's GroupNorm uses 4 groups (kSeedGroups, the default of the run's --groups); its
// LayerNorm is GroupNorm with one group.
using SeedGroupNorm = GroupNorm<kGroupsOfTheRun>;

static_assert(ParameterBudget<SeedNet<BatchNorm>::parameters, kParameterBudget>::ok);
static_assert(SeedNet<BatchNorm>::parameters == 35'504, "SeedNet must match the seed's 35,504");
static_assert(SeedNet<SeedGroupNorm>::parameters == 35'504);
static_assert(SeedNet<LayerNorm>::parameters == 35'504);
static_assert(SeedNet<InstanceNorm>::parameters == 35'504);
// Without norms: eight blocks' scales and shifts fewer, 2 x (4 x 16 + 4 x 32) = 384.
static_assert(SeedNet<NoNorm>::parameters == 35'504 - 384);

// ---- S8Net: the assignment's shape with residual adds, tuned for accuracy. ----------------
// conv -> norm -> ReLU, widths in multiples of 16 (oneDNN's blocked kernels).
// W: whether the convolutions feeding a norm standardise their weights (never the classifier).
// Standardised by default: it is what lets GroupNorm and LayerNorm train as well as BatchNorm
// here (measured in the README's ablation); S8Net<Norm, ConvWeights::plain> is the ablation.
// Without norms no convolution feeds one, so none standardises: a standardised 3x3 layer
// multiplies the variance by about its fan-in (144 to 288) and, with no norm to undo it, the
// logits reach 1e20 within a few steps.
template <class Norm, ConvWeights W>
inline constexpr ConvWeights kFeedingNorm = std::is_same_v<Norm, NoNorm> ? ConvWeights::plain : W;

template <int Out, class Norm, ConvWeights W, int Kernel = 3>
using S8Block = Seq<Conv<Out, Kernel, kFeedingNorm<Norm, W>>, Norm, Relu>;

template <class Norm, ConvWeights W = ConvWeights::standardized>
using S8Net = Chain<Input<3, 32, 32>,
    S8Block<16, Norm, W>, S8Block<32, Norm, W>, S8Block<16, Norm, W, 1>, MaxPool2,  // C1 C2 c3 P1
    S8Block<32, Norm, W>, Residual<S8Block<32, Norm, W>>,                          // C4 C5 (+C4)
    S8Block<32, Norm, W, 1>, MaxPool2,                                             // c6 P2
    S8Block<32, Norm, W>, Residual<S8Block<32, Norm, W>, S8Block<32, Norm, W>>,    // C7 C8 C9 (+C7)
    GlobalAvgPool, Conv1x1<10>>;                                                   // GAP C10

static_assert(ParameterBudget<S8Net<BatchNorm>::parameters, kParameterBudget>::ok);
static_assert(ParameterBudget<S8Net<SeedGroupNorm>::parameters, kParameterBudget>::ok);
static_assert(ParameterBudget<S8Net<LayerNorm>::parameters, kParameterBudget>::ok);
static_assert(S8Net<InstanceNorm>::parameters == S8Net<BatchNorm>::parameters);
// Without norms: nine blocks' scales and shifts fewer, 2 x (2 x 16 + 7 x 32) = 512.
static_assert(S8Net<NoNorm>::parameters == S8Net<BatchNorm>::parameters - 512);

}  // namespace normlab
