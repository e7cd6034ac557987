// The one place where names on the command line become network types.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "normlab/chain.hpp"
#include "normlab/network.hpp"

namespace normlab {

// The networks by name: "seed" (SeedNet), "s8" (S8Net) and "s8-plain" (S8Net without weight
// standardisation, for the ablation).
const std::vector<std::string>& network_names();

// Builds SeedNet or S8Net with BatchNorm, GroupNorm (4 groups) or LayerNorm for a batch size;
// norm_batch as for Network (0: BatchNorm's statistics over the whole batch).
std::unique_ptr<NetworkBase> make_network(const std::string& net, const std::string& norm,
                                          int batch, int norm_batch = 0);

// The compile-time description of the same network: its layers, parameters and FLOPs.
struct NetworkDescription {
  std::vector<LayerInfo> layers;
  long parameters = 0;
  double flops = 0;  // forward, per image
};
NetworkDescription describe_network(const std::string& net, const std::string& norm);

std::string norm_display_name(const std::string& norm);  // "batch" -> "BatchNorm"

}  // namespace normlab
