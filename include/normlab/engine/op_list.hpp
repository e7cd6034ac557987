// The run-time side of a chain: one op per declared layer, built in order (each takes the
// previous one's output), run forward in order and backward in reverse.
#pragma once

#include <cstring>

#include "normlab/net/chain.hpp"
#include "normlab/engine/op_contract.hpp"

namespace normlab {

template <class List>
class OpList;

template <>
class OpList<TypeList<>> {
 public:
  OpList(Builder&, const Tensor& in) : out_(in) {}
  const Tensor& output() const { return out_; }
  void bind(const Arena&) {}
  void forward(const dnnl::stream&, Pass, const StepKey&) const {}
  void backward(const dnnl::stream&) const {}
  template <class F>
  void for_each(F&&) {}

 private:
  Tensor out_;
};

template <class L, class... Rest>
class OpList<TypeList<L, Rest...>> {
  static_assert(ComputationalOp<typename L::Op, decltype(L::config())>,
                "a layer's Op must keep the contract in op_contract.hpp");

 public:
  OpList(Builder& b, const Tensor& in) : head_(starting_layer(b, in), in, L::config()), tail_(b, head_.output()) {}
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

 private:
  typename L::Op head_;
  OpList<TypeList<Rest...>> tail_;
};

// out = in + body(in). The body's input is marked read again (the skip reads it after the
// body has run), so no in-place layer in the body overwrites it. The sum goes into the body's
// output buffer, or into a buffer of its own when that output is read again (e.g. by an
// in-place ReLU's backward). The body gets a gradient buffer of its own for its input, and the
// skip path's gradient is copied out before the body's backward, which may work in place on
// the shared output gradient.
template <class... Body>
class ResidualOp<TypeList<Body...>> {
 public:
  ResidualOp(Builder& b, const Tensor& in, ResidualConfig)
      : in_(in), body_in_(body_input(b, in)), body_(b, body_in_), out_(own_output(b, body_.output())) {
    count_ = long(b.batch()) * in.shape.size();
  }
  const Tensor& output() const { return out_; }
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
    t.read_again = true;
    if (in.has_grad()) t.grad = b.arena().reserve(Region::activation_gradients, in.md.get_size());
    b.note_gradient_use(t);
    b.enter_body();
    return t;
  }
  static Tensor own_output(Builder& b, const Tensor& body_out) {
    b.leave_body();
    Tensor t = body_out;
    if (t.read_again) t.value = b.arena().reserve(Region::activations, t.md.get_size());
    t.read_again = false;
    return t;
  }

  Tensor in_, body_in_;
  OpList<TypeList<Body...>> body_;
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
