// The run-time side of a chain: one op per declared layer, or per fused block of layers,
// built in order (each takes the previous one's output), run forward in order and backward in
// reverse.
#pragma once

#include <cstring>

#include "normlab/engine/layer_ops.hpp"
#include "normlab/engine/op_contract.hpp"
#include "normlab/net/chain.hpp"

namespace normlab {

// How layers become ops. fused (the default): a norm takes the ReLU before it and the ReLU or
// dropout after it into its own passes (norm_fusion.hpp), the same arithmetic with fewer trips
// through memory. layered: one op per layer, the reference the fused engine is tested against
// (the same bits) and what the per-layer benchmarks time.
enum class Executor { fused, layered };

template <class List, Executor E>
class OpList;
template <class List, Executor E>
class ResidualOp;
struct ResidualConfig {};

// A norm layer: its op can run the layers around it (Config::fusion).
template <class L>
concept NormLayer = requires { LayerOp<L>::config().fusion; };

// The op that runs a chain's first layer or fused block: Op, config(), and the layers left.
template <class List, Executor E>
struct FirstOp;

template <class L, class... Rest, Executor E>
struct FirstOp<TypeList<L, Rest...>, E> {
  using Op = typename LayerOp<L>::Op;
  static constexpr auto config() { return LayerOp<L>::config(); }
  using Remaining = TypeList<Rest...>;
};

template <class... Body, class... Rest, Executor E>
struct FirstOp<TypeList<Residual<Body...>, Rest...>, E> {
  using Op = ResidualOp<typename Residual<Body...>::Layers, E>;
  static constexpr ResidualConfig config() { return {}; }
  using Remaining = TypeList<Rest...>;
};

// What follows a norm that it can run: a ReLU, a dropout, or nothing.
template <class List>
struct AfterNorm {
  static constexpr After after = After::none;
  static constexpr float dropout = 0.f;
  using Remaining = List;
};
template <class... Rest>
struct AfterNorm<TypeList<Relu, Rest...>> {
  static constexpr After after = After::relu;
  static constexpr float dropout = 0.f;
  using Remaining = TypeList<Rest...>;
};
template <int Percent, class... Rest>
struct AfterNorm<TypeList<Dropout<Percent>, Rest...>> {
  static constexpr After after = After::dropout;
  static constexpr float dropout = Dropout<Percent>::probability;
  using Remaining = TypeList<Rest...>;
};

template <Before kBefore, class N, class Following>
struct FusedNorm {
  using Op = typename LayerOp<N>::Op;
  static constexpr auto config() {
    auto c = LayerOp<N>::config();
    c.fusion = {kBefore, AfterNorm<Following>::after, AfterNorm<Following>::dropout};
    return c;
  }
  using Remaining = typename AfterNorm<Following>::Remaining;
};

// [ReLU] norm [ReLU | dropout] is one op.
template <NormLayer N, class... Rest>
struct FirstOp<TypeList<N, Rest...>, Executor::fused>
    : FusedNorm<Before::none, N, TypeList<Rest...>> {};
template <NormLayer N, class... Rest>
struct FirstOp<TypeList<Relu, N, Rest...>, Executor::fused>
    : FusedNorm<Before::relu, N, TypeList<Rest...>> {};

template <Executor E>
class OpList<TypeList<>, E> {
 public:
  OpList(Builder&, const Tensor& in) : out_(in) {}
  const Tensor& output() const { return out_; }
  void bind(const Arena&) {}
  void forward(const dnnl::stream&, Pass, const StepKey&) const {}
  void backward(const dnnl::stream&) const {}
  template <class F>
  void for_each(F&&) {}
  template <class F>
  void for_each_deep(F&&) const {}

 private:
  Tensor out_;
};

template <class List, Executor E>
class OpList {
  using First = FirstOp<List, E>;
  static_assert(ComputationalOp<typename First::Op, decltype(First::config())>,
                "a layer's Op must keep the contract in op_contract.hpp");

 public:
  OpList(Builder& b, const Tensor& in) : head_(starting_layer(b, in), in, First::config()), tail_(b, head_.output()) {}
  const Tensor& output() const { return tail_.output(); }
  void bind(const Arena& arena) {
    head_.bind(arena);
    tail_.bind(arena);
  }
  void forward(const dnnl::stream& s, Pass pass, const StepKey& step) const {
    head_.forward(s, pass, step);
    tail_.forward(s, pass, step);
  }
  void backward(const dnnl::stream& s) const {
    tail_.backward(s);
    head_.backward(s);
  }
  // The head's backward reads its output's gradient and writes its input's: both live there.
  static Builder& starting_layer(Builder& b, const Tensor& in) {
    b.begin_layer();
    b.note_gradient_use(in);
    return b;
  }

  // Visits each top-level op in order (the per-layer benchmarks time them one by one).
  template <class F>
  void for_each(F&& f) {
    f(head_);
    tail_.for_each(f);
  }
  // Every op in order, the ops of residual bodies included (the diagnostics read the norms).
  template <class F>
  void for_each_deep(F&& f) const {
    f(head_);
    if constexpr (requires { head_.body(); }) head_.body().for_each_deep(f);
    tail_.for_each_deep(f);
  }

 private:
  typename First::Op head_;
  OpList<typename First::Remaining, E> tail_;
};

// out = in + body(in). The body's input is marked read again (the skip reads it after the
// body has run), so no in-place layer in the body overwrites it. The sum goes into the body's
// output buffer, or into a buffer of its own when that output is read again (e.g. by an
// in-place ReLU's backward). The body gets a gradient buffer of its own for its input, and the
// skip path's gradient is copied out before the body's backward, which may work in place on
// the shared output gradient.
template <class Body, Executor E>
class ResidualOp {
 public:
  ResidualOp(Builder& b, const Tensor& in, ResidualConfig)
      : in_(in), body_in_(body_input(b, in)), body_(b, body_in_), out_(own_output(b, body_.output())) {
    count_ = long(b.batch()) * in.shape.size();
  }
  const Tensor& output() const { return out_; }
  const OpList<Body, E>& body() const { return body_; }
  void bind(const Arena& arena) {
    body_.bind(arena);
    x_ = arena.as<float>(in_.value);
    body_y_ = arena.as<float>(body_.output().value);
    y_ = arena.as<float>(out_.value);
    if (in_.has_grad()) {
      dy_ = arena.as<float>(out_.grad);
      dx_ = arena.as<float>(in_.grad);
      dbody_ = arena.as<float>(body_in_.grad);
    }
  }
  void forward(const dnnl::stream& s, Pass pass, const StepKey& step) const {
    body_.forward(s, pass, step);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < count_; ++i) y_[i] = body_y_[i] + x_[i];
  }
  void backward(const dnnl::stream& s) const {
    if (dx_ == nullptr) return body_.backward(s);
    std::memcpy(dx_, dy_, std::size_t(count_) * sizeof(float));
    body_.backward(s);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < count_; ++i) dx_[i] += dbody_[i];
  }

 private:
  // The body is built between these two: its layers count as this residual's for the plan.
  static Tensor body_input(Builder& b, const Tensor& in) {
    Tensor t = in;
    t.grad_id = b.renewed(in).grad_id;  // the same values; the gradient is the body's own
    t.read_again = true;
    if (in.has_grad()) t.grad = b.arena().reserve(Region::activation_gradients, in.md.get_size());
    b.note_gradient_use(t);
    b.enter_body();
    return t;
  }
  static Tensor own_output(Builder& b, const Tensor& body_out) {
    b.leave_body();
    Tensor t = b.renewed(body_out);  // the sum, not the body's output
    if (t.read_again) t.value = b.arena().reserve(Region::activations, t.md.get_size());
    t.read_again = false;
    return t;
  }

  Tensor in_, body_in_;
  OpList<Body, E> body_;
  Tensor out_;
  long count_ = 0;
  const float* x_ = nullptr;
  const float* body_y_ = nullptr;
  float* y_ = nullptr;
  const float* dy_ = nullptr;
  float* dx_ = nullptr;
  const float* dbody_ = nullptr;
};

}  // namespace normlab
