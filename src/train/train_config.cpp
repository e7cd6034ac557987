#include "normlab/train/train_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "normlab/engine/conv_options.hpp"
#include "normlab/base/error.hpp"
#include "normlab/train/models.hpp"

namespace normlab {

namespace {
void require(bool ok, const char* key, const std::string& problem) {
  if (!ok) throw ConfigError(key, problem);
}
}  // namespace

void TrainConfig::validate() const {
  const auto& nets = network_names();
  require(std::find(nets.begin(), nets.end(), net) != nets.end(), "net",
          "must be one of " + network_names_text() + ", not '" + net + "'");
  const auto& norms = norm_names();
  require(std::find(norms.begin(), norms.end(), norm) != norms.end(), "norm",
          "must be one of " + norm_names_text() + ", not '" + norm + "'");
  require(groups >= 1 && groups <= 1024, "groups", "must be between 1 and 1024");
  if (norm_takes_groups(norm)) {
    const std::string problem = groups_problem(net, groups);
    require(problem.empty(), "groups",
            fmt::format("{} does not divide every GroupNorm layer's channels: {}", groups, problem));
  }
  require(epochs >= 1 && epochs <= 1000, "epochs", "must be between 1 and 1000");
  require(threads >= 1 && threads <= 256, "threads", "must be between 1 and 256");
  require(batch >= 1 && batch <= 4096, "batch", "must be between 1 and 4096");
  require(norm_batch >= 0 && norm_batch <= batch && (norm_batch == 0 || batch % norm_batch == 0),
          "norm_batch", "must divide the batch size " + std::to_string(batch) + ", not be " +
                            std::to_string(norm_batch));
  // oneDNN has no bf16 Winograd, and normlab's own kernels are f32.
  require(precision == Precision::f32 || conv == ConvMode::direct, "precision",
          "bf16 needs direct convolutions (Winograd and normlab's kernels are f32), not --conv " +
              std::string(name_of(conv)));
  require(learning_rate > 0 && learning_rate <= 10, "learning_rate", "must be in (0, 10]");
  require(momentum >= 0 && momentum < 1, "momentum", "must be in [0, 1)");
  require(!nesterov || momentum > 0, "nesterov", "needs a momentum above 0");
  require(weight_decay >= 0 && weight_decay < 1, "weight_decay", "must be in [0, 1)");
  require(label_smoothing >= 0 && label_smoothing < 1, "label_smoothing", "must be in [0, 1)");
  require(augment.crop_padding >= 0 && augment.crop_padding <= 16, "augment.crop_padding",
          "must be 0..16");
  for (float jitter : {augment.brightness, augment.contrast, augment.saturation})
    require(jitter >= 0 && jitter < 1, "augment.brightness", "must be in [0, 1)");
  require(augment.cutout_size >= 1 && augment.cutout_size <= 32, "augment.cutout_size",
          "must be 1..32");
  require(holdout >= 0 && holdout < 50'000, "holdout", "must be in [0, 50000)");
  require(landscape_every >= 0 && landscape_every <= 1'000'000, "landscape_every",
          "must be 0 (never) or a step interval up to 1000000");
  require(limit >= 0 && limit <= 50'000 - holdout, "limit",
          "must be 0 (all) or at most the " + std::to_string(50'000 - holdout) +
              " training images, not " + std::to_string(limit));
}

void TrainConfig::check_this_cpu() const {
  require(conv != ConvMode::normlab || normlab_conv_kernels_built(), "conv",
          "normlab needs a build for a CPU with AVX-512 (this one has -march=" NORMLAB_MARCH ")");
  require(conv != ConvMode::winograd || cpu_has_onednn_avx512_convolutions(), "conv",
          "winograd needs a CPU with AVX-512 (oneDNN 2.6 has Winograd convolutions for those only)");
  require(precision != Precision::bf16 || cpu_has_onednn_avx512_convolutions(), "precision",
          "bf16 needs a CPU with AVX-512 (oneDNN 2.6 has bf16 convolutions for those only)");
}

TrainConfig seed_recipe() { return TrainConfig{}; }

TrainConfig s8_recipe() {
  TrainConfig c;
  c.net = "s8";
  c.learning_rate = 0.1f;
  c.momentum = 0.9f;
  c.nesterov = true;
  c.weight_decay = 5e-4f;
  c.batch = 64;
  c.schedule = Schedule::one_cycle;
  c.label_smoothing = 0.1f;
  c.augment.brightness = c.augment.contrast = c.augment.saturation = 0.f;
  c.test_time_flip = true;
  return c;
}

TrainConfig recipe_for(const std::string& net) {
  TrainConfig c = net == "seed" ? seed_recipe() : s8_recipe();
  c.net = net;
  return c;
}

bool schedule_depends_on_length(Schedule s) { return s != Schedule::constant; }

TrainConfig train_config_from_saved(nlohmann::json saved) {
  if (saved.is_object() && !saved.contains("conv")) saved["conv"] = "direct";
  if (saved.is_object() && !saved.contains("precision")) saved["precision"] = "f32";
  if (saved.is_object() && !saved.contains("groups")) saved["groups"] = kSeedGroups;
  if (saved.is_object() && !saved.contains("init")) saved["init"] = name_of(InitScheme::pytorch_default);
  if (saved.is_object() && !saved.contains("landscape_every")) saved["landscape_every"] = 0;
  if (saved.is_object() && !saved.contains("unfused")) saved["unfused"] = false;
  return saved.get<TrainConfig>();
}

namespace {
// Every float setting as the double of its shortest decimal form. TrainConfig holds floats
// only (no doubles), so narrowing each number to float first loses nothing.
void shorten_floats(nlohmann::json& j) {
  if (j.is_structured()) {
    for (auto& child : j) shorten_floats(child);
  } else if (j.is_number_float()) {
    j = std::strtod(fmt::format("{}", j.get<float>()).c_str(), nullptr);
  }
}
}  // namespace

// Every key required on reading: a config.json that lacks one is refused, never defaulted.
#define NORMLAB_TRAIN_CONFIG_KEYS                                                              \
  net, norm, epochs, seed, threads, unfused, batch, norm_batch, groups, init, conv, precision,          \
      learning_rate, momentum, nesterov, weight_decay, decay_norms, schedule, label_smoothing, \
      augment, test_time_flip, limit, holdout, landscape_every, data_dir, out_dir

// The names nlohmann_json_j and nlohmann_json_t are the ones NLOHMANN_JSON_TO/FROM expect.
void to_json(nlohmann::json& nlohmann_json_j, const TrainConfig& nlohmann_json_t) {
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, NORMLAB_TRAIN_CONFIG_KEYS))
  shorten_floats(nlohmann_json_j);
}

void from_json(const nlohmann::json& nlohmann_json_j, TrainConfig& nlohmann_json_t) {
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_FROM, NORMLAB_TRAIN_CONFIG_KEYS))
}

#undef NORMLAB_TRAIN_CONFIG_KEYS

}  // namespace normlab
