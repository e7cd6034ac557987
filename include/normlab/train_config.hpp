// Everything that defines a training run. Saved as config.json in the run directory and in
// every checkpoint, so a resumed run can prove it continues the same experiment.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "normlab/augment.hpp"

namespace normlab {

enum class Schedule { constant, one_cycle, cosine };

struct TrainConfig {
  std::string net = "seed";    // seed | s8
  std::string norm = "batch";  // batch | group | layer
  int epochs = 20;
  std::uint64_t seed = 1;
  int threads = 2;
  int batch = 128;
  int norm_batch = 0;  // BatchNorm's statistics per group of this many images (0 = the batch)
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
  std::string data_dir;  // as given; resolved by resolve_data_dir
  std::string out_dir;

  // Throws UsageError naming the first option out of range.
  void validate() const;
};

// The recipes: the seed's, exactly, and the one tuned for S8Net.
TrainConfig seed_recipe();
TrainConfig s8_recipe();

std::string schedule_name(Schedule s);
Schedule parse_schedule(const std::string& name);

void to_json(nlohmann::json& j, const TrainConfig& c);
void from_json(const nlohmann::json& j, TrainConfig& c);

}  // namespace normlab
