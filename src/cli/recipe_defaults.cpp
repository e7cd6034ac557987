#include "recipe_defaults.hpp"

#include <nlohmann/json.hpp>

#include "normlab/train/models.hpp"

namespace normlab::cli {

const std::vector<NamedRecipe>& distinct_recipes() {
  static const std::vector<NamedRecipe> recipes = [] {
    auto without_net = [](TrainConfig c) {
      c.net.clear();
      return nlohmann::json(c);
    };
    std::vector<NamedRecipe> found;
    for (const std::string& net : network_names()) {
      const TrainConfig config = recipe_for(net);
      const std::string display = network_display_name(net);
      bool known = false;
      for (NamedRecipe& r : found)
        if (without_net(r.config) == without_net(config)) {
          r.networks.push_back(display);
          known = true;
        }
      if (!known) found.push_back({display, {display}, config});
    }
    return found;
  }();
  return recipes;
}

std::string defaults_text(const std::function<std::string(const TrainConfig&)>& value_of) {
  const auto& recipes = distinct_recipes();
  bool all_agree = true, all_empty = true;
  for (const NamedRecipe& r : recipes) {
    all_agree = all_agree && value_of(r.config) == value_of(recipes.front().config);
    all_empty = all_empty && value_of(r.config).empty();
  }
  if (all_empty) return "";
  if (all_agree) return "default: " + value_of(recipes.front().config);
  std::string text;
  for (const NamedRecipe& r : recipes) text += (text.empty() ? "" : ", ") + r.name + ": " + value_of(r.config);
  return text;
}

}  // namespace normlab::cli
