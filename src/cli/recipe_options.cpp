// The training options, declared once. Each row is one command-line option: its flag, the
// config.json key it sets, its help text, and either the field it parses into or what a switch
// does. The table drives `train --help`, the override of a network's recipe, the names in
// validation errors and the refusal of a changed recipe on resume.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <variant>

#include "commands.hpp"
#include "normlab/base/error.hpp"
#include "normlab/engine/conv_options.hpp"
#include "normlab/train/models.hpp"

namespace normlab::cli {

namespace {

using Field = std::variant<std::monostate, int& (*)(TrainConfig&), float& (*)(TrainConfig&),
                           bool& (*)(TrainConfig&), std::uint64_t& (*)(TrainConfig&),
                           std::string& (*)(TrainConfig&), Schedule& (*)(TrainConfig&),
                           ConvMode& (*)(TrainConfig&), Precision& (*)(TrainConfig&),
                           InitScheme& (*)(TrainConfig&)>;

struct Row {
  const char* flag;
  const char* key;  // in config.json, dotted for nested objects ("augment.flip")
  const char* help;
  Field field;                                 // an option with a value parses into this field
  void (*set)(TrainConfig&) = nullptr;         // a switch does this; a value option, this after
  const char* excludes = nullptr;              // the opposite switch
};

// Field accessors read like the config's own member names.
#define NORMLAB_FIELD(member) [](TrainConfig & c) -> auto& { return c.member; }

const std::vector<Row>& rows() {
  static const std::vector<Row> table = {
      {"--net", "net", "network", NORMLAB_FIELD(net)},
      {"--norm", "norm", "normalisation", NORMLAB_FIELD(norm)},
      {"--epochs", "epochs", "epochs to train (both recipes: 20)",
       NORMLAB_FIELD(epochs)},
      {"--seed", "seed", "seed for initialisation, shuffling, augmentation, dropout (0..2^64-1)",
       NORMLAB_FIELD(seed)},
      {"--threads", "threads", "CPU threads (not part of the recipe: any count gives the same bits)",
       NORMLAB_FIELD(threads)},
      {"--batch-size", "batch", "images per step (seed recipe: 128)", NORMLAB_FIELD(batch)},
      {"--norm-batch", "norm_batch",
       "images per BatchNorm statistics group, dividing the batch (0: the whole batch); "
       "recorded but without effect for group and layer",
       NORMLAB_FIELD(norm_batch)},
      {"--groups", "groups",
       "GroupNorm's groups, dividing every normalised layer's channels (the seed's: 4); "
       "recorded but without effect for the other norms",
       NORMLAB_FIELD(groups)},
      {"--init", "init", "initialisation of the convolutions' weights", NORMLAB_FIELD(init)},
      {"--conv", "conv", "3x3 convolutions", NORMLAB_FIELD(conv)},
      {"--precision", "precision", "convolutions' precision", NORMLAB_FIELD(precision)},
      {"--lr", "learning_rate", "learning rate (the peak for one-cycle)",
       NORMLAB_FIELD(learning_rate)},
      {"--momentum", "momentum", "SGD momentum", NORMLAB_FIELD(momentum)},
      {"--nesterov", "nesterov", "Nesterov momentum", {}, [](TrainConfig& c) { c.nesterov = true; }},
      {"--no-nesterov", "nesterov", "plain momentum", {},
       [](TrainConfig& c) { c.nesterov = false; }, "--nesterov"},
      {"--weight-decay", "weight_decay", "L2 weight decay on conv weights (not norms)",
       NORMLAB_FIELD(weight_decay)},
      {"--decay-norms", "decay_norms", "apply the weight decay to norm scales and shifts too", {},
       [](TrainConfig& c) { c.decay_norms = true; }},
      {"--schedule", "schedule", "learning-rate schedule",
       NORMLAB_FIELD(schedule)},
      {"--label-smoothing", "label_smoothing", "label smoothing epsilon",
       NORMLAB_FIELD(label_smoothing)},
      {"--no-flip", "augment.flip", "no random horizontal flip", {},
       [](TrainConfig& c) { c.augment.flip = false; }},
      {"--no-crop", "augment.crop", "no random crop", {},
       [](TrainConfig& c) { c.augment.crop = false; }},
      {"--crop-padding", "augment.crop_padding", "zero padding of the random crop",
       NORMLAB_FIELD(augment.crop_padding)},
      {"--jitter", "augment.brightness", "colour jitter: brightness, contrast and saturation",
       NORMLAB_FIELD(augment.brightness),
       [](TrainConfig& c) { c.augment.contrast = c.augment.saturation = c.augment.brightness; }},
      {"--no-jitter", "augment.brightness", "no colour jitter", {},
       [](TrainConfig& c) { c.augment.brightness = c.augment.contrast = c.augment.saturation = 0; },
       "--jitter"},
      {"--cutout", "augment.cutout", "cutout: zero a random square after normalisation", {},
       [](TrainConfig& c) { c.augment.cutout = true; }},
      {"--no-cutout", "augment.cutout", "no cutout", {},
       [](TrainConfig& c) { c.augment.cutout = false; }, "--cutout"},
      {"--cutout-size", "augment.cutout_size", "side of the cutout square",
       NORMLAB_FIELD(augment.cutout_size)},
      {"--tta", "test_time_flip", "test-time augmentation: average with the mirror image", {},
       [](TrainConfig& c) { c.test_time_flip = true; }},
      {"--no-tta", "test_time_flip", "no test-time augmentation", {},
       [](TrainConfig& c) { c.test_time_flip = false; }, "--tta"},
      {"--limit", "limit", "train on the first N training images only (0: all)",
       NORMLAB_FIELD(limit)},
      {"--holdout", "holdout", "validate on the last N training images instead of the test set",
       NORMLAB_FIELD(holdout)},
      {"--landscape-every", "landscape_every",
       "every N-th step, the loss and gradient along the step's update at 0.5, 1, 2 and 4 times "
       "its length, in diagnostics.csv (4 more forward-backward passes a measured step; 0: off)",
       NORMLAB_FIELD(landscape_every)},
      {"--data", "data_dir",
       "CIFAR-10 binary directory (default: $NORMLAB_DATA, else data/cifar-10-batches-bin)",
       NORMLAB_FIELD(data_dir)},
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

bool given(const CLI::App& app, const Row& row) { return app.count(row.flag) > 0; }

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

void RecipeOptions::add_to(CLI::App& app, const std::vector<RefusedOption>& refused) {
  refused_ = refused;
  auto refusal = [&](const Row& row) -> const char* {
    for (const auto& r : refused)
      if (std::string(r.flag) == row.flag) return r.reason;
    return nullptr;
  };
  for (const Row& row : rows()) {
    // Accepted by the parser (hidden) so that apply() can say why the command does not take it.
    if (refusal(row)) {
      if (std::holds_alternative<std::monostate>(row.field)) app.add_flag(row.flag)->group("");
      else app.add_option(row.flag, refused_value_)->group("");
      continue;
    }
    std::visit(
        [&](auto field) {
          using F = decltype(field);
          if constexpr (std::is_same_v<F, std::monostate>) {
            app.add_flag(row.flag, row.help);
          } else {
            using T = std::remove_cvref_t<decltype(field(parsed_))>;
            if constexpr (Chosen<T>) {
              add_choice_option(app, row.flag, field(parsed_), row.help);
            } else {
              auto* option = app.add_option(row.flag, field(parsed_), row.help);
              if constexpr (std::is_same_v<T, std::uint64_t>) option->check(kNotNegative);
            }
          }
        },
        row.field);
  }
  const std::pair<const char*, std::vector<std::string>> closed_sets[] = {
      {"--net", network_names()},
      {"--norm", norm_names()}};
  for (const auto& [flag, names] : closed_sets)
    if (auto* option = app.get_option_no_throw(flag); option && option->get_group() != "")
      option->check(CLI::IsMember(names));
  for (const Row& row : rows())
    if (row.excludes && !refusal(row)) app.get_option(row.flag)->excludes(row.excludes);
}

TrainConfig RecipeOptions::apply(const CLI::App& app) const {
  const TrainConfig recipe = recipe_for(app.count("--net") ? parsed_.net : "seed");
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
