#include "normlab/train_config.hpp"

#include <algorithm>

#include "normlab/error.hpp"
#include "normlab/models.hpp"

namespace normlab {

namespace {
void require(bool ok, const std::string& what) {
  if (!ok) throw UsageError(what);
}
}  // namespace

void TrainConfig::validate() const {
  const auto& nets = network_names();
  require(std::find(nets.begin(), nets.end(), net) != nets.end(),
          "--net must be seed, s8 or s8-plain, not '" + net + "'");
  require(norm == "batch" || norm == "group" || norm == "layer",
          "--norm must be batch, group or layer, not '" + norm + "'");
  require(epochs >= 1 && epochs <= 1000, "--epochs must be between 1 and 1000");
  require(threads >= 1 && threads <= 256, "--threads must be between 1 and 256");
  require(batch >= 1 && batch <= 4096, "--batch-size must be between 1 and 4096");
  // 0 is the whole batch. (BatchNorm also needs K x height x width > 1 for its unbiased running
  // variance; the networks' norms all see 8 x 8 or more, so any K >= 1 will do.)
  require(norm_batch >= 0 && (norm_batch == 0 || batch % norm_batch == 0),
          "--norm-batch " + std::to_string(norm_batch) + " must divide --batch-size " +
              std::to_string(batch));
  require(learning_rate > 0 && learning_rate <= 10, "--lr must be in (0, 10]");
  require(momentum >= 0 && momentum < 1, "--momentum must be in [0, 1)");
  require(!nesterov || momentum > 0, "--nesterov needs a momentum above 0");
  require(weight_decay >= 0 && weight_decay < 1, "--weight-decay must be in [0, 1)");
  require(label_smoothing >= 0 && label_smoothing < 1, "--label-smoothing must be in [0, 1)");
  require(augment.crop_padding >= 0 && augment.crop_padding <= 16, "--crop-padding must be 0..16");
  require(augment.brightness >= 0 && augment.brightness < 1 && augment.contrast >= 0 &&
              augment.contrast < 1 && augment.saturation >= 0 && augment.saturation < 1,
          "--jitter must be in [0, 1)");
  require(augment.cutout_size >= 1 && augment.cutout_size <= 32, "--cutout-size must be 1..32");
  require(limit >= 0, "--limit must not be negative");
  require(holdout >= 0 && holdout < 50'000, "--holdout must be in [0, 50000)");
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

std::string schedule_name(Schedule s) {
  switch (s) {
    case Schedule::constant: return "constant";
    case Schedule::one_cycle: return "one-cycle";
    case Schedule::cosine: return "cosine";
  }
  return "?";
}

Schedule parse_schedule(const std::string& name) {
  if (name == "constant") return Schedule::constant;
  if (name == "one-cycle") return Schedule::one_cycle;
  if (name == "cosine") return Schedule::cosine;
  throw UsageError("--schedule must be constant, one-cycle or cosine, not '" + name + "'");
}

void to_json(nlohmann::json& j, const TrainConfig& c) {
  j = {{"net", c.net},
       {"norm", c.norm},
       {"epochs", c.epochs},
       {"seed", c.seed},
       {"threads", c.threads},
       {"batch_size", c.batch},
       {"norm_batch", c.norm_batch},
       {"learning_rate", c.learning_rate},
       {"momentum", c.momentum},
       {"nesterov", c.nesterov},
       {"weight_decay", c.weight_decay},
       {"decay_norms", c.decay_norms},
       {"schedule", schedule_name(c.schedule)},
       {"label_smoothing", c.label_smoothing},
       {"augment",
        {{"flip", c.augment.flip},
         {"crop", c.augment.crop},
         {"crop_padding", c.augment.crop_padding},
         {"brightness", c.augment.brightness},
         {"contrast", c.augment.contrast},
         {"saturation", c.augment.saturation},
         {"cutout", c.augment.cutout},
         {"cutout_size", c.augment.cutout_size}}},
       {"test_time_flip", c.test_time_flip},
       {"limit", c.limit},
       {"holdout", c.holdout},
       {"data_dir", c.data_dir},
       {"out_dir", c.out_dir}};
}

void from_json(const nlohmann::json& j, TrainConfig& c) {
  j.at("net").get_to(c.net);
  j.at("norm").get_to(c.norm);
  j.at("epochs").get_to(c.epochs);
  j.at("seed").get_to(c.seed);
  j.at("threads").get_to(c.threads);
  j.at("batch_size").get_to(c.batch);
  c.norm_batch = j.value("norm_batch", 0);  // absent in runs made before the option
  j.at("learning_rate").get_to(c.learning_rate);
  j.at("momentum").get_to(c.momentum);
  j.at("nesterov").get_to(c.nesterov);
  j.at("weight_decay").get_to(c.weight_decay);
  c.decay_norms = j.value("decay_norms", false);  // absent in runs made before the option
  c.schedule = parse_schedule(j.at("schedule").get<std::string>());
  j.at("label_smoothing").get_to(c.label_smoothing);
  const auto& a = j.at("augment");
  a.at("flip").get_to(c.augment.flip);
  a.at("crop").get_to(c.augment.crop);
  a.at("crop_padding").get_to(c.augment.crop_padding);
  a.at("brightness").get_to(c.augment.brightness);
  a.at("contrast").get_to(c.augment.contrast);
  a.at("saturation").get_to(c.augment.saturation);
  a.at("cutout").get_to(c.augment.cutout);
  a.at("cutout_size").get_to(c.augment.cutout_size);
  j.at("test_time_flip").get_to(c.test_time_flip);
  j.at("limit").get_to(c.limit);
  j.at("holdout").get_to(c.holdout);
  j.at("data_dir").get_to(c.data_dir);
  j.at("out_dir").get_to(c.out_dir);
}

}  // namespace normlab
