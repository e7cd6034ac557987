// The training options, declared once. Each row is one command-line option: its flag, the
// config.json key it sets, its help text, and either the field it parses into or what a switch
// does. The table drives `train --help`, the override of a network's recipe, the names in
// validation errors and the refusal of a changed recipe on resume.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <variant>

#include "commands.hpp"
#include "normlab/base/error.hpp"
#include "normlab/engine/conv_options.hpp"
#include "normlab/train/models.hpp"
#include "recipe_defaults.hpp"
#include "run_reuse.hpp"

namespace normlab::cli {

namespace {

using Field = std::variant<std::monostate, int& (*)(TrainConfig&), float& (*)(TrainConfig&),
                           bool& (*)(TrainConfig&), std::uint64_t& (*)(TrainConfig&),
                           std::string& (*)(TrainConfig&), Schedule& (*)(TrainConfig&),
                           ConvMode& (*)(TrainConfig&), Precision& (*)(TrainConfig&),
                           InitScheme& (*)(TrainConfig&)>;

struct Row {
  const char* group;  // the heading --help lists it under
  const char* flag;
  const char* key;  // in config.json, dotted for nested objects ("augment.flip")
  const char* help;
  Field field;                                 // an option with a value parses into this field
  void (*set)(TrainConfig&) = nullptr;         // a switch does this; a value option, this after
  const char* excludes = nullptr;              // the opposite switch, shown on its line
};

// Field accessors read like the config's own member names.
#define NORMLAB_FIELD(member) [](TrainConfig & c) -> auto& { return c.member; }

// In the order of --help: by group, then by how often a person reaches for it.
const std::vector<Row>& rows() {
  static const std::vector<Row> table = {
      {kNetworkGroup, "--net", "net", "network", NORMLAB_FIELD(net)},
      {kNetworkGroup, "--norm", "norm", "normalisation", NORMLAB_FIELD(norm)},
      {kNetworkGroup, "--norm-batch", "norm_batch",
       "images per BatchNorm statistics group, dividing the batch (0: the whole batch); "
       "recorded but without effect for group and layer",
       NORMLAB_FIELD(norm_batch)},
      {kNetworkGroup, "--groups", "groups",
       "GroupNorm's groups, dividing every normalised layer's channels (the seed's: 4); "
       "recorded but without effect for the other norms",
       NORMLAB_FIELD(groups)},
      {kNetworkGroup, "--init", "init", "initialisation of the convolutions' weights", NORMLAB_FIELD(init)},
      {kNetworkGroup, "--conv", "conv", "3x3 convolutions", NORMLAB_FIELD(conv)},
      {kNetworkGroup, "--precision", "precision", "convolutions' precision", NORMLAB_FIELD(precision)},
      {kOptimiserGroup, "--epochs", "epochs", "epochs to train", NORMLAB_FIELD(epochs)},
      {kOptimiserGroup, "--batch-size", "batch", "images per step", NORMLAB_FIELD(batch)},
      {kOptimiserGroup, "--lr", "learning_rate", "learning rate (the peak for one-cycle)",
       NORMLAB_FIELD(learning_rate)},
      {kOptimiserGroup, "--momentum", "momentum", "SGD momentum", NORMLAB_FIELD(momentum)},
      {kOptimiserGroup, "--nesterov", "nesterov", "Nesterov momentum", {},
       [](TrainConfig& c) { c.nesterov = true; }},
      {kOptimiserGroup, "--no-nesterov", "nesterov", "plain momentum", {},
       [](TrainConfig& c) { c.nesterov = false; }, "--nesterov"},
      {kOptimiserGroup, "--weight-decay", "weight_decay", "L2 weight decay on conv weights (not norms)",
       NORMLAB_FIELD(weight_decay)},
      {kOptimiserGroup, "--decay-norms", "decay_norms", "apply the weight decay to norm scales and shifts too",
       {}, [](TrainConfig& c) { c.decay_norms = true; }},
      {kOptimiserGroup, "--schedule", "schedule", "learning-rate schedule", NORMLAB_FIELD(schedule)},
      {kOptimiserGroup, "--label-smoothing", "label_smoothing", "label smoothing epsilon",
       NORMLAB_FIELD(label_smoothing)},
      {kAugmentationGroup, "--no-flip", "augment.flip", "no random horizontal flip", {},
       [](TrainConfig& c) { c.augment.flip = false; }},
      {kAugmentationGroup, "--no-crop", "augment.crop", "no random crop", {},
       [](TrainConfig& c) { c.augment.crop = false; }},
      {kAugmentationGroup, "--crop-padding", "augment.crop_padding", "zero padding of the random crop",
       NORMLAB_FIELD(augment.crop_padding)},
      {kAugmentationGroup, "--jitter", "augment.brightness", "colour jitter: brightness, contrast and saturation",
       NORMLAB_FIELD(augment.brightness),
       [](TrainConfig& c) { c.augment.contrast = c.augment.saturation = c.augment.brightness; }},
      {kAugmentationGroup, "--no-jitter", "augment.brightness", "no colour jitter", {},
       [](TrainConfig& c) { c.augment.brightness = c.augment.contrast = c.augment.saturation = 0; },
       "--jitter"},
      {kAugmentationGroup, "--cutout", "augment.cutout", "cutout: zero a random square after normalisation", {},
       [](TrainConfig& c) { c.augment.cutout = true; }},
      {kAugmentationGroup, "--no-cutout", "augment.cutout", "no cutout", {},
       [](TrainConfig& c) { c.augment.cutout = false; }, "--cutout"},
      {kAugmentationGroup, "--cutout-size", "augment.cutout_size", "side of the cutout square",
       NORMLAB_FIELD(augment.cutout_size)},
      {kAugmentationGroup, "--tta", "test_time_flip", "test-time augmentation: average with the mirror image", {},
       [](TrainConfig& c) { c.test_time_flip = true; }},
      {kAugmentationGroup, "--no-tta", "test_time_flip", "no test-time augmentation", {},
       [](TrainConfig& c) { c.test_time_flip = false; }, "--tta"},
      {kDataGroup, "--data", "data_dir",
       "CIFAR-10 binary directory (default: $NORMLAB_DATA, else data/cifar-10-batches-bin)",
       NORMLAB_FIELD(data_dir)},
      {kDataGroup, "--limit", "limit", "train on the first N training images only (0: all)", NORMLAB_FIELD(limit)},
      {kDataGroup, "--holdout", "holdout", "validate on the last N training images instead of the test set",
       NORMLAB_FIELD(holdout)},
      {kRunGroup, "--seed", "seed", "seed for initialisation, shuffling, augmentation, dropout (0..2^64-1)",
       NORMLAB_FIELD(seed)},
      {kRunGroup, "--threads", "threads", "CPU threads (not part of the recipe: any count gives the same bits)",
       NORMLAB_FIELD(threads)},
      {kRunGroup, "--unfused", "unfused",
       "one op per layer, without the fused executor: the reference it equals bit for bit (not part "
       "of the recipe; slower)",
       {}, [](TrainConfig& c) { c.unfused = true; }},
      {kRunGroup, "--landscape-every", "landscape_every",
       "every N-th step, the loss and gradient along the step's update at 0.5, 1, 2 and 4 times "
       "its length, in diagnostics.csv (4 more forward-backward passes a measured step; 0: off)",
       NORMLAB_FIELD(landscape_every)},
  };
  return table;
}

#undef NORMLAB_FIELD

nlohmann::json::json_pointer pointer_to(const std::string& dotted_key) {
  std::string pointer = "/" + dotted_key;
  for (char& ch : pointer)
    if (ch == '.') ch = '/';
  return nlohmann::json::json_pointer(pointer);
}

// A command that takes only some of the table's options (add_only) has no others to count.
bool given(const CLI::App& app, const Row& row) {
  return app.get_option_no_throw(row.flag) != nullptr && app.count(row.flag) > 0;
}

// CLI11 would read "-1" into an unsigned as 2^64 - 1; its own range check prints 300 digits.
const CLI::Validator kNotNegative(
    [](std::string& text) { return text.starts_with("-") ? std::string("must not be negative") : std::string(); },
    "NONNEGATIVE");

// `base` with the given options applied.
TrainConfig overlay(TrainConfig base, const TrainConfig& parsed, const CLI::App& app) {
  for (const Row& row : rows()) {
    if (!given(app, row)) continue;
    std::visit(
        [&](auto field) {
          if constexpr (!std::is_same_v<decltype(field), std::monostate>)
            field(base) = field(const_cast<TrainConfig&>(parsed));
        },
        row.field);
    if (row.set) row.set(base);
  }
  return base;
}

// The switch that undoes `row` (--no-tta for --tta), if any.
const Row* opposite_of(const Row& row) {
  for (const Row& r : rows())
    if (r.excludes && std::string(r.excludes) == row.flag) return &r;
  return nullptr;
}

// The setting's default in each recipe for --help ("SeedNet: 0.01, S8Net: 0.1"); "" for a
// lone switch, whose default is not to be given.
std::string defaults_of(const Row& row) {
  if (std::string(row.flag) == "--net") return std::string("default: ") + kDefaultNetwork;
  const bool value_option = !std::holds_alternative<std::monostate>(row.field);
  if (!value_option && !opposite_of(row)) return "";
  return defaults_text([&](const TrainConfig& recipe) {
    const nlohmann::json v = nlohmann::json(recipe).at(pointer_to(row.key));
    if (v.is_boolean()) return std::string(v.get<bool>() ? "on" : "off");
    return value_text(v);
  });
}

// "network: seed (SeedNet), s8 (S8Net), s8-plain (S8Net-plain, S8Net's recipe)".
std::string network_help() {
  std::string text;
  for (const std::string& net : network_names()) {
    const std::string display = network_display_name(net);
    std::string recipe;
    for (const NamedRecipe& r : distinct_recipes())
      if (r.name != display && std::find(r.networks.begin(), r.networks.end(), display) != r.networks.end())
        recipe = ", " + r.name + "'s recipe";
    text += (text.empty() ? "" : ", ") + net + " (" + display + recipe + ")";
  }
  return "network: " + text + " (default: " + kDefaultNetwork + ")";
}

}  // namespace

void validate_naming_options(const TrainConfig& config) {
  try {
    config.validate();
  } catch (const ConfigError& e) {
    throw Error(option_for_key(e.key) + " " + e.problem);
  }
}

void check_this_cpu_naming_options(const TrainConfig& config) {
  try {
    config.check_this_cpu();
  } catch (const ConfigError& e) {
    throw Error(option_for_key(e.key) + " " + e.problem);
  }
}

std::string option_for_key(const std::string& key) {
  for (const Row& row : rows())
    if (row.key == key && !row.excludes) return row.flag;
  return key;
}

std::vector<std::string> recipe_option_flags() {
  std::vector<std::string> flags;
  for (const Row& row : rows()) flags.push_back(row.flag);
  return flags;
}

std::string switch_for(const std::string& key, bool value) {
  for (const Row& row : rows()) {
    if (row.key != key || !row.set || !std::holds_alternative<std::monostate>(row.field)) continue;
    TrainConfig c;
    row.set(c);
    if (nlohmann::json(c).at(pointer_to(key)) == value) return row.flag;
  }
  return key + (value ? "=true" : "=false");
}

void RecipeOptions::add_only(CLI::App& app, const std::vector<std::string>& flags) {
  only_ = flags;
  add_to(app);
}

void RecipeOptions::add_to(CLI::App& app, const std::vector<RefusedOption>& refused) {
  refused_ = refused;
  auto refusal = [&](const Row& row) -> const char* {
    for (const auto& r : refused)
      if (std::string(r.flag) == row.flag) return r.reason;
    return nullptr;
  };
  auto taken = [&](const Row& row) {
    return only_.empty() || std::find(only_.begin(), only_.end(), row.flag) != only_.end();
  };
  for (const Row& row : rows()) {
    if (!taken(row)) continue;
    // Accepted by the parser (hidden) so that apply() can say why the command does not take it.
    if (refusal(row)) {
      if (std::holds_alternative<std::monostate>(row.field)) app.add_flag(row.flag)->group("");
      else app.add_option(row.flag, refused_value_)->group("");
      continue;
    }
    CLI::Option* option = nullptr;
    std::visit(
        [&](auto field) {
          using F = decltype(field);
          if constexpr (std::is_same_v<F, std::monostate>) {
            option = app.add_flag(row.flag, row.help);
          } else {
            using T = std::remove_cvref_t<decltype(field(parsed_))>;
            if constexpr (Chosen<T>) {
              option = add_choice_option(app, row.flag, field(parsed_), row.help);
            } else {
              option = app.add_option(row.flag, field(parsed_), row.help);
              if constexpr (std::is_same_v<T, std::uint64_t>) option->check(kNotNegative);
            }
          }
        },
        row.field);
    option->group(row.group);
    if (const std::string defaults = defaults_of(row); !defaults.empty())
      option->description(option->get_description() + " (" + defaults + ")");
  }
  if (auto* net = app.get_option_no_throw("--net"); net && net->get_group() != "")
    net->description(network_help());
  const std::pair<const char*, std::vector<std::string>> closed_sets[] = {
      {"--net", network_names()},
      {"--norm", norm_names()}};
  for (const auto& [flag, names] : closed_sets)
    if (auto* option = app.get_option_no_throw(flag); option && option->get_group() != "")
      option->check(CLI::IsMember(names));
  // A pair of switches is one line of --help ("--tta / --no-tta", HelpFormatter); they still
  // exclude each other.
  for (const Row& row : rows()) {
    if (!row.excludes || refusal(row) || !taken(row)) continue;
    CLI::Option* undo = app.get_option(row.flag);
    CLI::Option* does = app.get_option(row.excludes);
    undo->excludes(does);
    const std::string type = does->get_type_name().empty() ? "" : does->get_type_name() + " ";
    does->option_text(type + "/ " + row.flag);
  }
}

namespace {
// "--no-flip" -> "flip", "--nesterov" -> "nesterov": the setting a row's switch or value is about.
std::string setting_name(const Row& row) {
  const std::string name = std::string(row.flag).substr(2);
  return name.starts_with("no-") ? name.substr(3) : name;
}

bool on_first_recipe_line(const Row& row) {
  return std::string_view(row.group) == kNetworkGroup || std::string_view(row.group) == kOptimiserGroup;
}
}  // namespace

std::vector<std::string> recipe_lines(const TrainConfig& config) {
  const nlohmann::json values = config;
  const std::string head = network_display_name(config.net) + " with " + norm_display_name(config.norm) + ":";
  std::string first = head, second = head;
  std::set<std::string> shown;
  for (const Row& row : rows()) {
    // The data directory is where the images are, not how they are trained on.
    if (row.excludes || std::string(row.key) == "data_dir" || !shown.insert(row.key).second) continue;
    (on_first_recipe_line(row) ? first : second) +=
        " " + setting_name(row) + "=" + value_text(values.at(pointer_to(row.key)));
  }
  return {first, second};
}

std::string recipe_keys_help() {
  std::string text =
      "Keys of [train], [grid], --set and --grid: train's options without the dashes\n"
      "(a switch is KEY=true), with their defaults (normlab train --help tells more):\n";
  const char* group = "";
  for (const Row& row : rows()) {
    if (row.excludes || std::string(row.key) == "data_dir") continue;  // --data is the sweep's own
    if (std::string(group) != row.group) text += std::string("  ") + (group = row.group) + ":\n";
    std::string name = std::string(row.flag).substr(2);
    if (const Row* undo = opposite_of(row)) name += std::string(" / ") + (undo->flag + 2);
    const std::string defaults = defaults_of(row);
    text += fmt::format("    {:<24}{}\n", name, defaults.empty() ? "a switch" : defaults);
  }
  return text;
}

TrainConfig RecipeOptions::apply(const CLI::App& app) const {
  const TrainConfig recipe = recipe_for(app.count("--net") ? parsed_.net : kDefaultNetwork);
  return apply_to(recipe, app);
}

TrainConfig RecipeOptions::apply_to(const TrainConfig& base, const CLI::App& app) const {
  for (const auto& r : refused_)
    if (app.count(r.flag) > 0) throw Error(std::string(r.flag) + " is not taken here: " + r.reason);
  TrainConfig config = overlay(base, parsed_, app);
  validate_naming_options(config);
  return config;
}

std::vector<std::string> RecipeOptions::changed_options(
    const TrainConfig& saved, const CLI::App& app, const std::vector<std::string>& allowed) const {
  const nlohmann::json before = saved, after = overlay(saved, parsed_, app);
  std::vector<std::string> changed;
  for (const Row& row : rows()) {
    if (!given(app, row) || std::find(allowed.begin(), allowed.end(), row.flag) != allowed.end())
      continue;
    const auto& was = before.at(pointer_to(row.key));
    const auto& now = after.at(pointer_to(row.key));
    if (was == now) continue;
    // Floats as typed ("0.01"), not as their double expansion in JSON.
    auto text = [](const nlohmann::json& v) {
      return v.is_number_float() ? fmt::format("{}", v.get<float>()) : v.dump();
    };
    changed.push_back(std::string(row.flag) + " " + text(now) + " (the run has " + text(was) + ")");
  }
  return changed;
}

}  // namespace normlab::cli
