#include "normlab/run_directory.hpp"

#include <cstring>
#include <fstream>

#include "normlab/atomic_file.hpp"
#include "normlab/checkpoint_file.hpp"
#include "normlab/error.hpp"
#include "normlab/models.hpp"
#include "normlab/report.hpp"
#include "normlab/weights.hpp"
#include "normlab/weights_directory.hpp"

namespace normlab {

namespace fs = std::filesystem;
using nlohmann::json;

// Epoch metrics in checkpoints, with the same keys as metrics.json.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(EpochMetrics, epoch, learning_rate, train_loss, train_accuracy,
                                   test_loss, test_accuracy, seconds)

namespace {

void write_json(const fs::path& file, const json& j) {
  const std::string text = j.dump(2) + "\n";
  write_file_atomically(file, std::as_bytes(std::span(text.data(), text.size())));
}

std::span<const std::byte> bytes_of(std::span<const float> s) { return std::as_bytes(s); }

json tensor_table(const NetworkBase& net) {
  json t = json::array();
  for (const auto& v : weight_views(net)) t.push_back({{"name", v.name}, {"shape", v.shape}});
  return t;
}

// The settings that must agree for a checkpoint to continue a run; paths may differ.
json run_identity(const TrainConfig& config) {
  json j = config;
  j.erase("data_dir");
  j.erase("out_dir");
  return j;
}

}  // namespace

void start_run_directory(const fs::path& dir, const TrainConfig& config) {
  if (fs::exists(dir / kCheckpointName) || fs::exists(dir / "config.json"))
    throw UsageError(dir.string() + ": already holds a run; continue it with --resume " +
                     dir.string() + " or choose another --out");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir.string() + ": cannot create the run directory: " + ec.message());
  write_json(dir / "config.json", config);
}

TrainConfig read_run_config(const fs::path& dir) {
  const fs::path file = dir / "config.json";
  std::ifstream in(file);
  if (!in) throw Error(file.string() + ": cannot read (is " + dir.string() + " a run directory?)");
  try {
    TrainConfig c = json::parse(in).get<TrainConfig>();
    c.validate();
    return c;
  } catch (const json::exception& e) {
    throw Error(file.string() + ": not a valid run configuration: " + e.what());
  }
}

void save_training_checkpoint(const fs::path& file, const TrainConfig& config,
                              const TrainingState& state, const NetworkBase& net) {
  json meta = {{"format", "normlab-training"},
               {"config", config},
               {"state",
                {{"epoch", state.epoch}, {"step", state.step}, {"loss_sum", state.loss_sum},
                 {"correct", state.correct}, {"seen", state.seen}, {"seconds", state.seconds}}},
               {"history", state.history},
               {"tensors", tensor_table(net)},
               {"weights_hash", weights_hash(net)}};
  const CheckpointBlob blobs[] = {{"parameters", bytes_of(net.parameters())},
                                  {"momentum", bytes_of(net.momentum())},
                                  {"buffers", bytes_of(net.buffers())}};
  save_checkpoint(file, meta, blobs);
}

TrainingState load_training_checkpoint(const fs::path& file, const TrainConfig& config,
                                       NetworkBase& net) {
  const LoadedCheckpoint ckpt = load_checkpoint(file);
  const std::string where = file.string() + ": ";
  const json& meta = ckpt.metadata;
  TrainingState state;
  try {
    if (meta.value("format", "") != "normlab-training")
      throw Error(where + "not a normlab training checkpoint");
    const json saved = run_identity(meta.at("config").get<TrainConfig>());
    const json wanted = run_identity(config);
    for (const auto& [key, value] : wanted.items())
      if (!saved.contains(key) || saved.at(key) != value)
        throw Error(where + "checkpoint is for " + key + " = " +
                    (saved.contains(key) ? saved.at(key).dump() : "nothing") + ", this run has " +
                    value.dump());
    if (meta.at("tensors") != tensor_table(net))
      throw Error(where + "checkpoint tensors do not match this network's");
    const auto& s = meta.at("state");
    s.at("epoch").get_to(state.epoch);
    s.at("step").get_to(state.step);
    s.at("loss_sum").get_to(state.loss_sum);
    s.at("correct").get_to(state.correct);
    s.at("seen").get_to(state.seen);
    s.at("seconds").get_to(state.seconds);
    meta.at("history").get_to(state.history);
  } catch (const json::exception& e) {
    throw Error(where + "checkpoint metadata is incomplete: " + e.what());
  }
  if (state.epoch < 0 || state.epoch > config.epochs || state.step < 0 ||
      int(state.history.size()) != state.epoch)
    throw Error(where + "checkpoint state is inconsistent (epoch " + std::to_string(state.epoch) + ")");
  // Sizes first, then copy: a mismatch leaves the network untouched.
  const std::pair<const char*, std::span<float>> targets[] = {
      {"parameters", net.parameters()}, {"momentum", net.momentum()}, {"buffers", net.buffers()}};
  for (const auto& [name, target] : targets)
    if (ckpt.blob(name).size() != target.size_bytes())
      throw Error(where + "checkpoint " + name + " hold " + std::to_string(ckpt.blob(name).size()) +
                  " bytes, this network needs " + std::to_string(target.size_bytes()));
  for (const auto& [name, target] : targets)
    std::memcpy(target.data(), ckpt.blob(name).data(), target.size_bytes());
  return state;
}

void write_epoch_outputs(const fs::path& dir, const TrainConfig& config, const TrainingState& state,
                         const NetworkBase& net) {
  save_training_checkpoint(dir / kCheckpointName, config, state, net);
  if (state.history.empty()) return;
  write_metrics_csv(dir / "metrics.csv", state.history);
  write_metrics_json(dir / "metrics.json", state.history);
  plot_training_curves(dir / "curves.png", state.history,
                       config.net + " / " + norm_display_name(config.norm));
}

void write_final_outputs(const fs::path& dir, const TrainConfig& config, const TrainingState& state,
                         const Evaluation& eval, const ImageSet& eval_set,
                         const std::vector<std::string>& class_names, const NetworkBase& net) {
  const std::string title = config.net + " / " + norm_display_name(config.norm);
  write_confusion_csv(dir / "confusion.csv", eval.confusion, class_names);
  plot_confusion(dir / "confusion.png", eval.confusion, class_names, "Confusion matrix, " + title);
  // The first 20 misclassified images, in set order: the same every run of the same weights.
  std::vector<GalleryImage> wrong;
  for (int i = 0; i < eval_set.count && wrong.size() < 20; ++i)
    if (eval.predictions[std::size_t(i)] != eval_set.label(i))
      wrong.push_back({eval_set.pixels(i), eval.predictions[std::size_t(i)], eval_set.label(i)});
  draw_gallery(dir / "misclassified.png", wrong, class_names, "Misclassified, " + title);
  export_weights(dir / "weights", weight_views(net));
  const EpochMetrics& last = state.history.back();
  double best_test = 0, best_train = 0;
  for (const auto& m : state.history) {
    best_test = std::max(best_test, m.test_accuracy);
    best_train = std::max(best_train, m.train_accuracy);
  }
  double seconds = 0;
  for (const auto& m : state.history) seconds += m.seconds;
  write_json(dir / "summary.json",
             {{"net", config.net},
              {"norm", config.norm},
              {"parameters", net.parameter_count()},
              {"epochs", state.epoch},
              {"final_train_accuracy", last.train_accuracy},
              {"best_train_accuracy", best_train},
              {"final_test_accuracy", eval.accuracy},
              {"best_test_accuracy", best_test},
              {"final_test_loss", eval.loss},
              {"seconds_per_epoch", seconds / double(state.history.size())},
              {"evaluated_on", config.holdout > 0 ? "holdout" : "test"},
              {"weights_hash", weights_hash(net)}});
}

}  // namespace normlab
