#include "sweep_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

#include "commands.hpp"
#include "did_you_mean.hpp"
#include "sweep_file.hpp"
#include "normlab/base/error.hpp"
#include "normlab/train/models.hpp"

namespace normlab::cli {

namespace fs = std::filesystem;

namespace {

Values split_list(const std::string& text) {
  Values out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::pair<std::string, std::string> split_assignment(const std::string& text, const char* option) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    fail(std::string(option) + " " + text, "expected KEY=VALUE");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

// A key and its value as `train` words: true switches are the bare flag, false ones nothing.
void append_option(std::vector<std::string>& args, const std::string& key, const std::string& value) {
  if (value == "true") {
    args.push_back("--" + key);
  } else if (value != "false") {
    args.push_back("--" + key);
    args.push_back(value);
  }
}

bool skipped(const std::vector<SkipRule>& skips, const std::map<std::string, std::string>& settings) {
  return std::any_of(skips.begin(), skips.end(), [&](const SkipRule& rule) {
    return std::all_of(rule.begin(), rule.end(), [&](const auto& condition) {
      const auto& [key, values] = condition;
      return std::find(values.begin(), values.end(), settings.at(key)) != values.end();
    });
  });
}

// The point's TrainConfig, parsed by the same option table as `train`.
TrainConfig parse_point(const std::vector<std::string>& args, const std::string& where) {
  CLI::App app;
  RecipeOptions options;
  options.add_to(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses a reversed vector
  try {
    app.parse(reversed);
    return options.apply(app);
  } catch (const CLI::ExtrasError& e) {
    // A key no train option has, named as the sweep file has it, with the likely one.
    for (const std::string& word : app.remaining()) {
      if (!word.starts_with("--")) continue;
      std::vector<std::string> keys;
      for (const std::string& flag : recipe_option_flags()) keys.push_back(flag.substr(2));
      const auto hint = nearest_word(word.substr(2), keys);
      fail(where, "unknown key '" + word.substr(2) + "'" + (hint ? " (did you mean " + *hint + "?)" : ""));
    }
    fail(where, e.what());
  } catch (const CLI::ParseError& e) {
    fail(where, e.what());
  } catch (const Error& e) {
    fail(where, e.what());
  }
}

// net, norm, GroupNorm's groups (unless the seed's 4), batch, norm batch (for BatchNorm), lr
// and seed always; then every other grid axis, so two points differ in name exactly when they
// differ in settings.
std::string point_name(const TrainConfig& c, const std::map<std::string, std::string>& other_axes) {
  std::string name = fmt::format("{}-{}", c.net, c.norm);
  if (norm_takes_groups(c.norm) && c.groups != kSeedGroups) name += fmt::format("{}", c.groups);
  name += fmt::format("-b{}", c.batch);
  if (norm_uses_batch_statistics(c.norm)) name += fmt::format("-nb{}", c.statistics_batch());
  name += fmt::format("-lr{}-s{}", c.learning_rate, c.seed);
  for (const auto& [key, value] : other_axes) name += "-" + key + value;
  for (char& ch : name)
    if (ch == '/' || ch == ' ') ch = '_';
  return name;
}

}  // namespace

SweepPlan read_sweep_plan(const fs::path& file, const SweepOverrides& overrides,
                          const fs::path& out_dir) {
  SweepFile sweep_file = file.empty() ? SweepFile{} : read_sweep_file(file);
  auto& [train, grid, skips, lr_rule, reference_batch] = sweep_file;
  const std::string source = file.empty() ? std::string("the sweep options") : file.string();

  for (const std::string& s : overrides.set) {
    const auto [key, value] = split_assignment(s, "--set");
    train[key] = value;
  }
  for (const std::string& g : overrides.grid) {
    const auto [key, value] = split_assignment(g, "--grid");
    std::erase_if(grid, [&](const auto& axis) { return axis.first == key; });
    grid.emplace_back(key, split_list(value));
  }
  for (const char* owned : {"out", "resume", "data"}) {
    if (train.count(owned)) fail(source, std::string("'") + owned + "' is set by the sweep itself, not per run");
    for (const auto& axis : grid)
      if (axis.first == owned) fail(source, std::string("'") + owned + "' cannot be a grid axis");
  }
  if (overrides.threads > 0) {
    train["threads"] = std::to_string(overrides.threads);
  } else if (!train.count("threads")) {
    const char* slurm = std::getenv("SLURM_CPUS_PER_TASK");
    train["threads"] = slurm && *slurm ? slurm : "2";
  }

  // A skip names grid axes and values they take: anything else is a typo that would skip nothing.
  for (std::size_t i = 0; i < skips.size(); ++i)
    for (const auto& [key, values] : skips[i]) {
      const auto axis = std::find_if(grid.begin(), grid.end(), [&](const auto& a) { return a.first == key; });
      if (axis == grid.end()) fail(source, fmt::format("skip #{}: '{}' is not a grid axis", i + 1, key));
      for (const std::string& v : values)
        if (std::find(axis->second.begin(), axis->second.end(), v) == axis->second.end())
          fail(source, fmt::format("skip #{}: {} = {} is not one of the grid's values", i + 1, key, v));
    }

  SweepPlan plan;
  plan.name = file.empty() ? "sweep" : file.stem().string();
  for (char& ch : plan.name)  // it names Slurm jobs and files: letters, digits, . _ - only
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '_' && ch != '-') ch = '_';
  plan.dir = !out_dir.empty() ? out_dir : fs::path("runs/sweeps") / plan.name;

  // Every combination, the last axis varying fastest.
  std::size_t combinations = 1;
  for (const auto& axis : grid) combinations *= axis.second.size();
  if (combinations > 10'000) fail(source, fmt::format("the grid has {} points; at most 10,000", combinations));
  std::map<std::string, std::size_t> index_of_name;
  for (std::size_t n = 0; n < combinations; ++n) {
    std::map<std::string, std::string> settings = train;
    std::size_t rest = n;
    for (auto axis = grid.rbegin(); axis != grid.rend(); ++axis) {
      settings[axis->first] = axis->second[rest % axis->second.size()];
      rest /= axis->second.size();
    }
    if (skipped(skips, settings)) continue;
    std::vector<std::string> args;
    for (const auto& [key, value] : settings) append_option(args, key, value);
    if (!overrides.data_dir.empty()) args.insert(args.end(), {"--data", overrides.data_dir});
    std::string where = source;
    for (const auto& axis : grid) where += " " + axis.first + "=" + settings[axis.first];
    TrainConfig config = parse_point(args, where);
    if (!lr_rule.empty()) {
      config.learning_rate = float(config.learning_rate * config.batch / reference_batch);
      validate_naming_options(config);
    }
    // GroupNorm and LayerNorm are per image: every norm batch is the same computation.
    const int reported_norm_batch = config.statistics_batch();
    if (!norm_uses_batch_statistics(config.norm)) config.norm_batch = 0;
    if (!norm_takes_groups(config.norm)) config.groups = kSeedGroups;  // the same computation
    std::map<std::string, std::string> other_axes;
    for (const auto& axis : grid)
      if (!std::set<std::string>{"net", "norm", "groups", "batch-size", "norm-batch", "lr", "seed"}.count(axis.first))
        other_axes[axis.first] = settings[axis.first];
    const std::string name = point_name(config, other_axes);
    config.out_dir = (plan.dir / name).string();
    if (auto it = index_of_name.find(name); it != index_of_name.end()) {
      auto& batches = plan.points[it->second].norm_batches;
      if (std::find(batches.begin(), batches.end(), reported_norm_batch) == batches.end())
        batches.push_back(reported_norm_batch);
      continue;
    }
    index_of_name[name] = plan.points.size();
    plan.points.push_back({name, config, {reported_norm_batch}});
  }
  if (plan.points.empty()) fail(source, "every point of the grid is skipped");
  return plan;
}

}  // namespace normlab::cli
