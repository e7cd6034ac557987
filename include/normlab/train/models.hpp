// The one place where names on the command line become network types: a table of norms and a
// table of networks. Adding a norm or a network is one row in its table (plus its declaration
// in nets.hpp); the CLI's choices, validation, summary, compare and the benchmarks follow.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "normlab/net/chain.hpp"
#include "normlab/net/nets.hpp"
#include "normlab/engine/network.hpp"

namespace normlab {

template <class Layer>
struct NormRow {
  using type = Layer;
  std::string_view name;     // on the command line and in config.json
  std::string_view display;  // in tables and figures
  bool batch_statistics;     // normalises with statistics over images, so --norm-batch matters
  bool takes_groups;         // its group count is the run's --groups
  bool in_seed_study;        // one of the seed's three, which `compare` runs unless told
};

// The norms, in the order the CLI lists and `compare` runs them.
inline constexpr auto kNorms = std::tuple{
    NormRow<BatchNorm>{"batch", "BatchNorm", true, false, true},
    NormRow<SeedGroupNorm>{"group", "GroupNorm", false, true, true},  // --groups, the seed's 4
    NormRow<LayerNorm>{"layer", "LayerNorm", false, false, true},     // GroupNorm with one group
    NormRow<InstanceNorm>{"instance", "InstanceNorm", false, false, false},  // one channel per group
    NormRow<NoNorm>{"none", "no norm", false, false, false},          // the control: norms removed
};

template <template <class Norm> class Net>
struct NetRow {
  template <class Norm>
  using of = Net<Norm>;
  std::string_view name;     // on the command line and in config.json
  std::string_view display;  // in tables and figures
  std::string_view description;
};

template <class Norm>
using S8PlainNet = S8Net<Norm, ConvWeights::plain>;
template <class Norm>
using S8StandardisedNet = S8Net<Norm>;

// The networks, each built with every norm.
inline constexpr auto kNets = std::tuple{
    NetRow<SeedNet>{"seed", "SeedNet", "the assignment's reference model"},
    NetRow<S8StandardisedNet>{"s8", "S8Net", "residual adds and weight standardisation"},
    NetRow<S8PlainNet>{"s8-plain", "S8Net-plain", "S8Net without weight standardisation (ablation)"},
};

// Calls f.template operator()<Net>(net_name, norm_name) for every network with every norm.
template <class F>
void for_each_network(F&& f) {
  std::apply(
      [&](const auto&... net) {
        auto with_norms = [&](const auto& n) {
          std::apply(
              [&](const auto&... norm) {
                (f.template operator()<typename std::remove_cvref_t<decltype(n)>::template of<
                     typename std::remove_cvref_t<decltype(norm)>::type>>(n.name, norm.name),
                 ...);
              },
              kNorms);
        };
        (with_norms(net), ...);
      },
      kNets);
}

const std::vector<std::string>& network_names();
const std::vector<std::string>& norm_names();
const std::vector<std::string>& seed_study_norm_names();  // batch, group, layer
std::string network_names_text();  // "seed, s8 or s8-plain"
std::string norm_names_text();     // "batch, group or layer"
std::string norm_display_name(const std::string& norm);     // "batch" -> "BatchNorm"
std::string network_display_name(const std::string& net);  // "seed" -> "SeedNet"
bool norm_uses_batch_statistics(const std::string& norm);  // true for "batch"
bool norm_takes_groups(const std::string& norm);           // true for "group"

// Builds the named network for a batch size; `norm_batch` images share BatchNorm statistics
// (0: the whole batch); `conv` picks the convolutions' algorithm and precision; `groups` is
// GroupNorm's group count; `executor` fuses the norms' neighbours into their passes or runs one
// op per layer (the same bits). Throws Error for a name not in the tables.
std::unique_ptr<NetworkBase> make_network(const std::string& net, const std::string& norm,
                                          int batch, int norm_batch = 0, ConvOptions conv = {},
                                          int groups = kSeedGroups, Executor executor = Executor::fused);

// The compile-time description of the same network: its layers, parameters and FLOPs.
struct NetworkDescription {
  std::vector<LayerInfo> layers;
  long parameters = 0;
  double flops = 0;           // forward, per image
  double backward_flops = 0;  // backward, per image
};
NetworkDescription describe_network(const std::string& net, const std::string& norm);

// The channels of each normalised layer of the named network, in network order (residual
// bodies included).
std::vector<int> normalised_channels(const std::string& net);

// Why `groups` cannot split the named network's GroupNorm layers ("gn3 has 16 channels"), or
// "" when it divides every one of them, residual bodies included.
std::string groups_problem(const std::string& net, int groups);

}  // namespace normlab
