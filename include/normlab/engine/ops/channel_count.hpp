// Kernels compiled per channel count. With the count a constant the compiler keeps per-channel
// sums in vector registers and vectorises a pixel's channel loop whole; with a count read at
// run time it vectorises in blocks as wide as the loop's narrowest element allows (32 channels
// where a byte mask is read or written) and runs the rest as scalar code.
#pragma once

#include <type_traits>

namespace normlab {

// kernel(std::integral_constant<int, C>{}) for a channel count among kWidths, else
// kernel(std::integral_constant<int, 0>{}): the same code with the count read at run time.
template <int... kWidths, class Kernel>
void with_channel_count(int channels, Kernel&& kernel) {
  const bool compiled =
      ((channels == kWidths ? (kernel(std::integral_constant<int, kWidths>{}), true) : false) || ...);
  if (!compiled) kernel(std::integral_constant<int, 0>{});
}

}  // namespace normlab
