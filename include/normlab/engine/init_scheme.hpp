// How the convolutions' weights start. PyTorch's default keeps the seed's results; He's
// initialisation keeps the signal's variance through ReLU layers, without which the network
// without a norm does not train (its variance shrinks about sixfold per layer).
#pragma once

#include "normlab/base/choices.hpp"

namespace normlab {

enum class InitScheme {
  pytorch_default,  // U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default for convolutions
  he,               // N(0, 2 / fan_in): Kaiming normal with ReLU's gain, fan-in mode
};

template <>
struct ChoiceTable<InitScheme> {
  static constexpr std::string_view key = "init";
  static constexpr Choice<InitScheme> rows[] = {
      {InitScheme::pytorch_default, "default", "PyTorch's default, uniform within 1/sqrt(fan-in)"},
      {InitScheme::he, "he", "He (Kaiming) normal with ReLU's gain, sqrt(2/fan-in)"},
  };
};

}  // namespace normlab
