// How the 3x3 convolutions compute: oneDNN's direct kernels (the default), or Winograd
// F(4x4, 3x3) on the layers where it measured faster inside the training step. The choice is
// per layer shape and fixed in the code (ConvOp::winograd_pays), never timed at run time, so a
// run is as deterministic with Winograd as without.
#pragma once

#include <string>
#include <vector>

namespace normlab {

enum class ConvMode {
  direct,
  winograd,             // Winograd where ConvOp::winograd_pays says so, direct elsewhere
  winograd_everywhere,  // every layer oneDNN's Winograd supports (the benchmarks' comparison)
};

// The modes a user chooses from, as on the command line and in config.json.
const std::vector<std::string>& conv_mode_names();  // "direct", "winograd"
// Throws Error naming the text when it is not one of conv_mode_names().
ConvMode conv_mode_named(const std::string& name);

}  // namespace normlab
