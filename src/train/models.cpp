#include "normlab/train/models.hpp"

#include <fmt/format.h>

#include "normlab/base/error.hpp"

namespace normlab {

namespace {
template <class Rows>
std::vector<std::string> names_of(const Rows& rows) {
  return std::apply([](const auto&... row) { return std::vector<std::string>{std::string(row.name)...}; },
                    rows);
}

std::string as_choice_text(const std::vector<std::string>& names) {
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i)
    text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return text;
}

void require_known(const std::string& net, const std::string& norm) {
  const auto& nets = network_names();
  const auto& norms = norm_names();
  if (std::find(nets.begin(), nets.end(), net) == nets.end())
    throw Error("unknown network '" + net + "' (choose " + network_names_text() + ")");
  if (std::find(norms.begin(), norms.end(), norm) == norms.end())
    throw Error("unknown norm '" + norm + "' (choose " + norm_names_text() + ")");
}
}  // namespace

const std::vector<std::string>& network_names() {
  static const std::vector<std::string> names = names_of(kNets);
  return names;
}
const std::vector<std::string>& norm_names() {
  static const std::vector<std::string> names = names_of(kNorms);
  return names;
}
const std::vector<std::string>& seed_study_norm_names() {
  static const std::vector<std::string> names = std::apply(
      [](const auto&... row) {
        std::vector<std::string> in_study;
        ((row.in_seed_study ? void(in_study.emplace_back(row.name)) : void()), ...);
        return in_study;
      },
      kNorms);
  return names;
}
std::string network_names_text() { return as_choice_text(network_names()); }
std::string norm_names_text() { return as_choice_text(norm_names()); }

std::string norm_display_name(const std::string& norm) {
  std::string display = norm;
  std::apply([&](const auto&... row) { ((row.name == norm ? void(display = row.display) : void()), ...); },
             kNorms);
  return display;
}

std::string network_display_name(const std::string& net) {
  std::string display = net;
  std::apply([&](const auto&... row) { ((row.name == net ? void(display = row.display) : void()), ...); },
             kNets);
  return display;
}

bool norm_uses_batch_statistics(const std::string& norm) {
  bool uses = false;
  std::apply([&](const auto&... row) { ((row.name == norm ? void(uses = row.batch_statistics) : void()), ...); },
             kNorms);
  return uses;
}

bool norm_takes_groups(const std::string& norm) {
  bool takes = false;
  std::apply([&](const auto&... row) { ((row.name == norm ? void(takes = row.takes_groups) : void()), ...); },
             kNorms);
  return takes;
}

std::unique_ptr<NetworkBase> make_network(const std::string& net, const std::string& norm,
                                          int batch, int norm_batch, ConvOptions conv, int groups,
                                          Executor executor) {
  require_known(net, norm);
  std::unique_ptr<NetworkBase> built;
  for_each_network([&]<class Net>(std::string_view net_name, std::string_view norm_name) {
    if (net_name != net || norm_name != norm) return;
    if (executor == Executor::fused)
      built = std::make_unique<Network<Net>>(batch, norm_batch, conv, groups);
    else
      built = std::make_unique<Network<Net, Executor::layered>>(batch, norm_batch, conv, groups);
  });
  return built;
}

NetworkDescription describe_network(const std::string& net, const std::string& norm) {
  require_known(net, norm);
  NetworkDescription description;
  for_each_network([&]<class Net>(std::string_view net_name, std::string_view norm_name) {
    if (net_name == net && norm_name == norm)
      description = {{Net::layers.begin(), Net::layers.end()}, Net::parameters, Net::flops,
                     Net::backward_flops};
  });
  return description;
}

std::vector<int> normalised_channels(const std::string& net) {
  std::vector<int> channels;
  for_each_network([&]<class Net>(std::string_view net_name, std::string_view norm_name) {
    if (net_name != net || norm_name != "group") return;
    auto collect = [&](std::string_view kind, Shape in) {
      if (kind == "GroupNorm") channels.push_back(in.c);
    };
    EachLayer<typename Net::Layers>::visit(Net::input, collect);
  });
  return channels;
}

std::string groups_problem(const std::string& net, int groups) {
  const std::vector<int> channels = normalised_channels(net);
  for (std::size_t i = 0; i < channels.size(); ++i)
    if (channels[i] % groups != 0) return fmt::format("gn{} has {} channels", i + 1, channels[i]);
  return "";
}

}  // namespace normlab
