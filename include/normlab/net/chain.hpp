// A network as a type: Chain<Input<3, 32, 32>, layers...>. The compiler knows every shape,
// parameter count and FLOP count; the run-time ops are instantiated from the same list.
#pragma once

#include <array>
#include <string_view>
#include <tuple>

#include "normlab/net/layers.hpp"

namespace normlab {

template <int C, int H, int W>
struct Input {
  static constexpr Shape shape{C, H, W};
};

template <class... Ts>
struct TypeList {};

namespace detail {
template <class... Lists>
struct Concat;
template <>
struct Concat<> {
  using type = TypeList<>;
};
template <class... A>
struct Concat<TypeList<A...>> {
  using type = TypeList<A...>;
};
template <class... A, class... B, class... Rest>
struct Concat<TypeList<A...>, TypeList<B...>, Rest...> {
  using type = typename Concat<TypeList<A..., B...>, Rest...>::type;
};

// Seq<...> groups are spliced in, so a chain is always a flat list of layers.
template <class L>
struct Flatten {
  using type = TypeList<L>;
};
template <class... Ls>
struct Flatten<Seq<Ls...>> {
  using type = typename Concat<typename Flatten<Ls>::type...>::type;
};
// The no-norm control leaves no layer behind.
template <>
struct Flatten<NoNorm> {
  using type = TypeList<>;
};
}  // namespace detail

template <class... Ls>
using Flat = typename detail::Concat<typename detail::Flatten<Ls>::type...>::type;

// One row of a network's summary, known at compile time.
struct LayerInfo {
  std::string_view kind;
  Shape input, output;
  long parameters;
  double flops;           // forward, per image
  double backward_flops;  // backward, per image
  bool input_gradient;    // its backward computes its input's gradient (not a network's first layer)
};

// A layer's backward FLOPs: its own count where it declares one (convolutions: data and weight
// gradients), else the forward's (element-wise layers, which are memory bound either way).
// input_gradient: whether the backward computes its input's gradient, false for a network's
// first layer (the images have none), where a layer without parameters does nothing.
template <class L>
constexpr double backward_flops_of(Shape in, bool input_gradient) {
  if constexpr (requires { L::backward_flops(in, input_gradient); })
    return L::backward_flops(in, input_gradient);
  else
    return input_gradient || L::parameters(in) > 0 ? L::flops(in) : 0.0;
}

template <class List>
struct ChainOf;

template <class... Ls>
struct ChainOf<TypeList<Ls...>> {
  static constexpr int depth = sizeof...(Ls);

  // input_gradient: whether the chain's input has a gradient (every later layer's input does).
  static constexpr std::array<LayerInfo, depth> layers(Shape in, bool input_gradient) {
    std::array<LayerInfo, depth> rows{};
    int i = 0;
    ((rows[i] = LayerInfo{Ls::kind, in, Ls::output(in), Ls::parameters(in), Ls::flops(in),
                          backward_flops_of<Ls>(in, input_gradient || i > 0), input_gradient || i > 0},
      ++i, in = Ls::output(in)),
     ...);
    return rows;
  }
  static constexpr Shape output(Shape in) {
    ((in = Ls::output(in)), ...);
    return in;
  }
  static constexpr long parameters(Shape in) {
    long total = 0;
    ((total += Ls::parameters(in), in = Ls::output(in)), ...);
    return total;
  }
  static constexpr double flops(Shape in) {
    double total = 0;
    ((total += Ls::flops(in), in = Ls::output(in)), ...);
    return total;
  }
  static constexpr double backward_flops(Shape in, bool input_gradient) {
    double total = 0;
    int i = 0;
    ((total += backward_flops_of<Ls>(in, input_gradient || i > 0), ++i, in = Ls::output(in)), ...);
    return total;
  }
};

// "Add one layer to another": out = in + body(in). The body must keep the shape. (Its op,
// ResidualOp in include/normlab/engine/op_list.hpp, runs the body as a chain of its own.)
template <class... Body>
struct Residual {
  using Layers = Flat<Body...>;
  using Inner = ChainOf<Layers>;
  static constexpr std::string_view kind = "Residual";
  static constexpr Shape output(Shape in) {
    if (!(Inner::output(in) == in)) throw "Residual: the body must keep the shape it is given";
    return in;
  }
  static constexpr long parameters(Shape in) { return Inner::parameters(in); }
  static constexpr double flops(Shape in) { return Inner::flops(in) + double(in.size()); }
  static constexpr double backward_flops(Shape in, bool input_gradient) {
    return Inner::backward_flops(in, input_gradient) + (input_gradient ? double(in.size()) : 0.0);
  }
};

// Calls f(kind, input shape) for every layer in order, the layers of residual bodies
// included (after the residual's own row): what a check over every layer of a kind needs.
template <class List>
struct EachLayer;

template <class... Ls>
struct EachLayer<TypeList<Ls...>> {
  template <class F>
  static constexpr void visit(Shape in, F& f) {
    ((visit_one<Ls>(in, f), in = Ls::output(in)), ...);
  }
  template <class L, class F>
  static constexpr void visit_one(Shape in, F& f) {
    f(L::kind, in);
    if constexpr (requires { typename L::Layers; }) EachLayer<typename L::Layers>::visit(in, f);
  }
};

// A whole network: an input and a flat chain of layers.
template <class In, class... Ls>
struct Chain {
  using Layers = Flat<Ls...>;
  using Inner = ChainOf<Layers>;
  static constexpr Shape input = In::shape;
  static constexpr Shape output = Inner::output(input);
  static constexpr long parameters = Inner::parameters(input);
  static constexpr double flops = Inner::flops(input);  // forward, per image
  // Backward, per image: the images have no gradient, so the first layer computes none.
  static constexpr double backward_flops = Inner::backward_flops(input, false);
  static constexpr int depth = Inner::depth;
  static constexpr auto layers = Inner::layers(input, false);
};

// The assignment's budget, checked where a network is declared.
inline constexpr long kParameterBudget = 50'000;

}  // namespace normlab
