// Everything that defines a training run. Saved as config.json in the run directory and in
// every checkpoint, so a resumed run can prove it continues the same experiment. The JSON keys
// are the field names; the command-line options that set them are listed once, in
// src/cli/recipe_options.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "normlab/data/augment.hpp"
#include "normlab/base/choices.hpp"
#include "normlab/engine/conv_options.hpp"
#include "normlab/engine/init_scheme.hpp"
#include "normlab/net/layers.hpp"

namespace normlab {

enum class Schedule { constant, one_cycle, cosine };

template <>
struct ChoiceTable<Schedule> {
  static constexpr std::string_view key = "schedule";
  static constexpr Choice<Schedule> rows[] = {
      {Schedule::constant, "constant", "the same rate at every step"},
      {Schedule::one_cycle, "one-cycle", "warm up to the rate, then anneal (depends on the run's length)"},
      {Schedule::cosine, "cosine", "cosine decay from the rate (depends on the run's length)"},
  };
};

// The settings that say how a run is executed, not what it computes: any value gives the same
// bits, so they are not part of a run's recipe (a run may be resumed or reused with another).
// Each is a config.json key and, with dashes, its option.
inline constexpr std::array<std::string_view, 2> kExecutionSettings = {"threads", "unfused"};

struct TrainConfig {
  std::string net = "seed";    // a name from network_names()
  std::string norm = "batch";  // a name from norm_names()
  int epochs = 20;
  std::uint64_t seed = 1;
  int threads = 2;
  // One op per layer instead of the fused executor: the reference the default equals bit for
  // bit (not part of the recipe, like threads), slower by the element-wise passes it keeps.
  bool unfused = false;
  int batch = 128;
  int norm_batch = 0;  // images per BatchNorm statistics group; 0 = the whole batch
  int groups = kSeedGroups;  // GroupNorm's group count (recorded, without effect for other norms)
  InitScheme init = InitScheme::pytorch_default;  // of the convolutions' weights
  ConvMode conv = ConvMode::direct;
  Precision precision = Precision::f32;  // of the convolutions
  float learning_rate = 0.01f;  // the peak for one-cycle
  float momentum = 0.9f;
  bool nesterov = false;
  float weight_decay = 0.f;
  bool decay_norms = false;  // also decay norm scales and shifts (an ablation; off in both recipes)
  Schedule schedule = Schedule::constant;
  float label_smoothing = 0.f;
  AugmentOptions augment;
  bool test_time_flip = false;  // average predictions over the image and its mirror
  int limit = 0;    // train on the first N training images (0 = all)
  int holdout = 0;  // validate on the last N training images instead of the test set
  int landscape_every = 0;  // measure the loss landscape at every N-th step (landscape.hpp); 0: never
  std::string data_dir;  // as given; resolved by resolve_data_dir
  std::string out_dir;

  // Throws ConfigError naming the key ("learning_rate") of the first setting out of range.
  void validate() const;
  // Throws ConfigError where this CPU or build cannot run the chosen convolutions. Apart from
  // validate(): a run made elsewhere can still be read, listed and reported here.
  void check_this_cpu() const;
  // The images BatchNorm computes one set of statistics over.
  int statistics_batch() const { return norm_batch > 0 ? norm_batch : batch; }
};

// The recipes: the seed's, exactly, and the one tuned for S8Net; by network name.
TrainConfig seed_recipe();
TrainConfig s8_recipe();
TrainConfig recipe_for(const std::string& net);

// Whether the learning rate at a step depends on the run's total length (so a run cannot be
// extended without changing the steps already taken).
bool schedule_depends_on_length(Schedule s);

inline std::string schedule_name(Schedule s) { return std::string(name_of(s)); }

// A saved configuration (config.json, a checkpoint's). Runs saved before an option existed
// ran what is now its default, so a missing "conv" reads as "direct", "precision" as "f32",
// "groups" as 4, "init" as "default", "landscape_every" as 0 and "unfused" as false; every other key is required.
TrainConfig train_config_from_saved(nlohmann::json saved);

// Every key required: a config.json that lacks one is refused, never silently defaulted.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(AugmentOptions, flip, crop, crop_padding, brightness, contrast,
                                   saturation, cutout, cutout_size)
// Floats are written in their shortest exact form ("learning_rate": 0.01, not the double
// 0.009999999776482582), so config.json, reports and messages show what was typed.
void to_json(nlohmann::json& j, const TrainConfig& c);
void from_json(const nlohmann::json& j, TrainConfig& c);

}  // namespace normlab
