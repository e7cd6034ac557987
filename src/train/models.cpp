#include "normlab/models.hpp"

#include "normlab/error.hpp"
#include "normlab/nets.hpp"

namespace normlab {

namespace {
// Calls f.template operator()<Net>() for the network the names choose.
template <class F>
auto with_network(const std::string& net, const std::string& norm, F&& f) {
  if (net == "seed") {
    if (norm == "batch") return f.template operator()<SeedNet<BatchNorm>>();
    if (norm == "group") return f.template operator()<SeedNet<SeedGroupNorm>>();
    if (norm == "layer") return f.template operator()<SeedNet<LayerNorm>>();
  } else if (net == "s8") {
    if (norm == "batch") return f.template operator()<S8Net<BatchNorm>>();
    if (norm == "group") return f.template operator()<S8Net<SeedGroupNorm>>();
    if (norm == "layer") return f.template operator()<S8Net<LayerNorm>>();
  } else if (net == "s8-plain") {
    constexpr auto plain = ConvWeights::plain;
    if (norm == "batch") return f.template operator()<S8Net<BatchNorm, plain>>();
    if (norm == "group") return f.template operator()<S8Net<SeedGroupNorm, plain>>();
    if (norm == "layer") return f.template operator()<S8Net<LayerNorm, plain>>();
  }
  throw UsageError("unknown network '" + net + "' with norm '" + norm + "'");
}
}  // namespace

std::unique_ptr<NetworkBase> make_network(const std::string& net, const std::string& norm,
                                          int batch, int norm_batch) {
  return with_network(net, norm, [&]<class Net>() -> std::unique_ptr<NetworkBase> {
    return std::make_unique<Network<Net>>(batch, norm_batch);
  });
}

NetworkDescription describe_network(const std::string& net, const std::string& norm) {
  return with_network(net, norm, []<class Net>() {
    return NetworkDescription{{Net::layers.begin(), Net::layers.end()}, Net::parameters, Net::flops};
  });
}

const std::vector<std::string>& network_names() {
  static const std::vector<std::string> names{"seed", "s8", "s8-plain"};
  return names;
}

std::string norm_display_name(const std::string& norm) {
  if (norm == "batch") return "BatchNorm";
  if (norm == "group") return "GroupNorm";
  if (norm == "layer") return "LayerNorm";
  return norm;
}

}  // namespace normlab
