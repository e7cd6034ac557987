// The contract of an op: the run-time side of one layer type (`LayerOp<Layer>::Op`), what OpList builds,
// binds and replays. Written once here, checked for every op at compile time (OpList).
//
//   Op(Builder& b, const Tensor& in, Config config)
//       Reserves in b.arena() every byte the op will touch (its output, saved statistics,
//       scratchpad needs via b.need_scratchpad) and registers its parameters and buffers by name
//       (b.add_parameter / b.add_buffer, names from b.next_name). Creates no memory of its own
//       afterwards. If it will read `in.value` again in backward, or after the next layer has
//       run, it must make sure no later in-place layer overwrites it: take its output from
//       b.make_activation, or mark what it keeps with Tensor::read_again.
//   const Tensor& output() const
//       The activation it writes: a fresh one, or `in`'s own buffers when it runs in place
//       (b.in_place_output, which refuses when `in.read_again` is set).
//   void bind(const Arena& arena)
//       Called once, after the arena exists: turns slots into pointers and oneDNN memories and
//       builds every primitive Call a pass will replay (none may be left empty).
//   void forward(const dnnl::stream& s, Pass pass, const StepKey& step) const
//       Reads in.value, writes output().value. Pass::train may save what backward needs and
//       update running statistics; `step` keys any randomness (dropout), Pass::eval draws none.
//   void backward(const dnnl::stream& s) const
//       Reads output().grad and what forward saved; OVERWRITES (never adds to) in.grad when
//       in.has_grad(), and overwrites the gradient of each of its parameters (there is no
//       zero_grad: every parameter's gradient is written by exactly one op each step).
//
// Nothing in forward or backward allocates, throws or takes a lock.
#pragma once

#include <concepts>

#include "normlab/engine/builder.hpp"
#include "normlab/engine/tensor.hpp"

namespace normlab {

template <class Op, class Config>
concept ComputationalOp =
    std::constructible_from<Op, Builder&, const Tensor&, Config> &&
    requires(Op op, const Op& const_op, const Arena& arena, const dnnl::stream& s,
             const StepKey& step) {
      { const_op.output() } -> std::same_as<const Tensor&>;
      { op.bind(arena) } -> std::same_as<void>;
      { const_op.forward(s, Pass::train, step) } -> std::same_as<void>;
      { const_op.backward(s) } -> std::same_as<void>;
    };

}  // namespace normlab
