// The element-wise layers a norm runs inside its own passes. op_list.hpp hands a norm the ReLU
// before it (conv -> ReLU -> norm, SeedNet's blocks) and the ReLU or dropout after it
// (norm -> ReLU, S8Net's; norm -> dropout, SeedNet's), so each activation crosses memory once
// per pass instead of once per layer. The arithmetic is the separate layers' own, element for
// element, so a fused network computes the same bits as the layered one (tests/fusion_test).
#pragma once

#include <type_traits>

namespace normlab {

enum class Before { none, relu };
enum class After { none, relu, dropout };

struct NormFusion {
  Before before = Before::none;
  After after = After::none;
  float dropout = 0.f;  // the probability, with After::dropout
};

// What runs after the norm in a pass: evaluation passes values through dropout.
inline After after_in_pass(After after, bool eval) {
  return eval && after == After::dropout ? After::none : after;
}

// kernel(std::integral_constant<Before, B>{}, std::integral_constant<After, A>{}): the passes
// are compiled once per combination, so no element pays for a branch on the fusion.
template <class Kernel>
void with_fusion(Before before, After after, Kernel&& kernel) {
  auto with_after = [&](auto b) {
    switch (after) {
      case After::none: return kernel(b, std::integral_constant<After, After::none>{});
      case After::relu: return kernel(b, std::integral_constant<After, After::relu>{});
      case After::dropout: return kernel(b, std::integral_constant<After, After::dropout>{});
    }
  };
  if (before == Before::relu) return with_after(std::integral_constant<Before, Before::relu>{});
  return with_after(std::integral_constant<Before, Before::none>{});
}

}  // namespace normlab
