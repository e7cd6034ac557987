// Which op runs each layer of the vocabulary (include/normlab/net/layers.hpp), and with what
// configuration: the engine's side of a network's declaration, so that the declaration itself
// compiles without oneDNN. OpList (op_list.hpp) builds LayerOp<L>::Op for each layer L.
#pragma once

#include "normlab/engine/ops/batch_norm.hpp"
#include "normlab/engine/ops/conv.hpp"
#include "normlab/engine/ops/dropout.hpp"
#include "normlab/engine/ops/group_norm.hpp"
#include "normlab/engine/ops/pool.hpp"
#include "normlab/engine/ops/relu.hpp"
#include "normlab/net/layers.hpp"

namespace normlab {

template <class L>
struct LayerOp;

template <int Out, int Kernel, ConvWeights W>
struct LayerOp<Conv<Out, Kernel, W>> {
  using Op = ConvOp;
  static constexpr Op::Config config() { return {Out, Kernel, Conv<Out, Kernel, W>::standardized}; }
};

template <>
struct LayerOp<Relu> {
  using Op = ReluOp;
  static constexpr Op::Config config() { return {}; }
};

template <int Percent>
struct LayerOp<Dropout<Percent>> {
  using Op = DropoutOp;
  static constexpr Op::Config config() { return {Dropout<Percent>::probability}; }
};

template <>
struct LayerOp<BatchNorm> {
  using Op = BatchNormOp;
  static constexpr Op::Config config() { return {}; }
};

template <int Groups>
struct LayerOp<GroupNorm<Groups>> {  // Groups may be kGroupsOfTheRun: the builder's
  using Op = GroupNormOp;
  static constexpr Op::Config config() { return {Groups, "gn"}; }
};

template <>
struct LayerOp<InstanceNorm> {  // GroupNorm with one channel per group
  using Op = GroupNormOp;
  static constexpr Op::Config config() { return {GroupNormOp::kOneChannelPerGroup, "in"}; }
};

template <>
struct LayerOp<LayerNorm> {  // GroupNorm with one group, named as PyTorch's LayerNorm module
  using Op = GroupNormOp;
  static constexpr Op::Config config() { return {1, "ln"}; }
};

template <>
struct LayerOp<MaxPool2> {
  using Op = PoolOp;
  static constexpr Op::Config config() { return {true}; }
};

template <>
struct LayerOp<GlobalAvgPool> {
  using Op = PoolOp;
  static constexpr Op::Config config() { return {false}; }
};

}  // namespace normlab
