// The networks' recipes as --help shows them: each distinct recipe named by the first network
// that trains with it, and a setting's default in each ("SeedNet: 0.01, S8Net: 0.1").
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "normlab/train/train_config.hpp"

namespace normlab::cli {

struct NamedRecipe {
  std::string name;                  // "S8Net": the display name of the first network using it
  std::vector<std::string> networks;  // "S8Net", "S8Net-plain": every network that uses it
  TrainConfig config;
};

// The recipes of recipe_for() that differ in more than the network's name, in network order.
const std::vector<NamedRecipe>& distinct_recipes();

// "SeedNet: 0.01, S8Net: 0.1", or "default: 0.9" where every recipe agrees; "" where the
// value is "" in every recipe.
std::string defaults_text(const std::function<std::string(const TrainConfig&)>& value_of);

}  // namespace normlab::cli
