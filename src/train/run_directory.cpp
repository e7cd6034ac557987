#include "normlab/train/run_directory.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "normlab/io/atomic_file.hpp"
#include "normlab/io/checkpoint_file.hpp"
#include "normlab/base/error.hpp"
#include "normlab/train/models.hpp"
#include "normlab/train/provenance.hpp"
#include "normlab/report/comparison_table.hpp"
#include "normlab/report/confusion.hpp"
#include "normlab/report/curves.hpp"
#include "normlab/report/gallery.hpp"
#include "normlab/report/diagnostics_files.hpp"
#include "normlab/report/metrics_files.hpp"
#include "normlab/report/sweep_report.hpp"
#include "normlab/train/run_lock.hpp"
#include "normlab/engine/tensor_view.hpp"
#include "normlab/train/weights.hpp"
#include "normlab/io/weights_directory.hpp"

namespace normlab {

namespace fs = std::filesystem;
using nlohmann::json;

// Epoch metrics in checkpoints, with the same keys as metrics.json.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(EpochMetrics, epoch, learning_rate, train_loss, train_accuracy,
                                   test_loss, test_accuracy, seconds)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DiagnosticsRow, epoch, step, layer, quantity, value)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SinceLastSample, loss_sum, correct, seen)

namespace {

void write_json(const fs::path& file, const json& j) { write_file_atomically(file, j.dump(2) + "\n"); }

std::span<const std::byte> bytes_of(std::span<const float> s) { return std::as_bytes(s); }

json tensor_table(const NetworkBase& net) {
  json t = json::array();
  for (const auto& v : weight_views(net)) t.push_back({{"name", v.name}, {"shape", v.shape}});
  return t;
}

// The settings that must agree for a checkpoint to continue a run; paths may differ, and so may
// the execution settings (a run is the same bits with any).
json run_identity(const TrainConfig& config) {
  json j = config;
  j.erase("data_dir");
  j.erase("out_dir");
  for (std::string_view key : kExecutionSettings) j.erase(std::string(key));
  if (!schedule_depends_on_length(config.schedule)) j.erase("epochs");  // extensible (--resume --epochs)
  return j;
}

}  // namespace

namespace {

// What DIR holds besides a free lock file, for the refusal message ("metrics.csv, weights/").
std::vector<std::string> entries_besides_free_lock(const fs::path& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == kLockName && run_lock_holder(dir) == 0) continue;
    found.push_back(name + (entry.is_directory() ? "/" : ""));
  }
  if (ec) fail(dir, "cannot list: " + ec.message());
  std::sort(found.begin(), found.end());
  return found;
}

std::string listing(const std::vector<std::string>& names) {
  std::string text;
  for (std::size_t i = 0; i < names.size() && i < 4; ++i) text += (i ? ", " : "") + names[i];
  if (names.size() > 4) text += ", ... " + std::to_string(names.size()) + " entries";
  return text;
}

void refuse_unless_empty(const fs::path& dir) {
  if (const long holder = run_lock_holder(dir); holder != 0)
    fail(dir, "in use by process " + (holder > 0 ? std::to_string(holder) : std::string("unknown")) +
                  " (another normlab is training there)");
  const auto found = entries_besides_free_lock(dir);
  if (found.empty()) return;
  if (std::find(found.begin(), found.end(), "config.json") != found.end())
    fail(dir, "already holds a run; continue it with --resume " + dir.string() +
                  " or choose another --out");
  fail(dir, "exists and is not empty (holds " + listing(found) +
                "); choose another --out, nothing was written");
}

// A run is assembled in a hidden sibling, then renamed into place: DIR never exists without
// its config.json and epoch-0 checkpoint. One left by a killed start is removed here.
std::string staging_prefix(const fs::path& dir) {
  std::string prefix = ".";  // appended: "literal" + std::string trips a false -Wrestrict in g++ 12
  prefix += dir.filename().string();
  prefix += ".new-";
  return prefix;
}

void remove_abandoned_staging(const fs::path& dir) {
  const fs::path parent = dir.parent_path().empty() ? fs::path(".") : dir.parent_path();
  const std::string prefix = staging_prefix(dir);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    // Its maker's PID is in the name; a live maker may not hold the lock yet, so ask the kernel.
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && (::kill(pid_t(pid), 0) == 0 || errno == EPERM)) continue;
    fs::remove_all(entry.path(), ec);
  }
}

// Temporaries of writes a kill -9 interrupted (".checkpoint.bin.tmp-123-0-0"): only the lock
// holder writes here, so once it holds the lock they are garbage.
void remove_stale_temporaries(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".") && name.find(".tmp-") != std::string::npos) fs::remove(entry.path(), ec);
  }
}

}  // namespace

std::string config_difference(const TrainConfig& saved_config, const TrainConfig& wanted_config) {
  const json saved = run_identity(saved_config);
  const json wanted = run_identity(wanted_config);
  for (const auto& [key, value] : wanted.items())
    if (!saved.contains(key) || saved.at(key) != value)
      return key + " = " + (saved.contains(key) ? saved.at(key).dump() : "nothing") +
             ", this run has " + value.dump();
  return "";
}

void check_new_run_directory(const fs::path& dir) {
  std::error_code ec;
  const auto status = fs::symlink_status(dir, ec);
  if (!fs::exists(status)) return;
  if (!fs::is_directory(status)) fail(dir, "exists and is not a directory; choose another --out");
  refuse_unless_empty(dir);
}

RunLock start_run_directory(const fs::path& dir, const TrainConfig& config, const NetworkBase& net) {
  check_new_run_directory(dir);
  const fs::path parent = dir.parent_path().empty() ? fs::path(".") : dir.parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) fail(parent, "cannot create: " + ec.message());
  remove_abandoned_staging(dir);
  const fs::path staging = parent / (staging_prefix(dir) + std::to_string(::getpid()));
  if (::mkdir(staging.c_str(), 0755) != 0) fail(dir, "cannot create the run directory: " + errno_text());
  try {
    RunLock lock = RunLock::acquire(staging);  // the lock moves with the directory
    json saved = config;
    saved["provenance"] = provenance(config.threads);  // ignored when read back
    write_json(staging / "config.json", saved);
    save_training_checkpoint(staging / kCheckpointName, config, TrainingState{}, net);
    // rename(2) replaces only a missing or empty directory: of two starts, one wins. A free
    // lock file left by a start killed long ago would make DIR non-empty.
    if (fs::exists(dir / kLockName, ec) && run_lock_holder(dir) == 0) fs::remove(dir / kLockName, ec);
    if (::rename(staging.c_str(), dir.c_str()) != 0) {
      const int error = errno;
      if (error == ENOTEMPTY || error == EEXIST) check_new_run_directory(dir);
      errno = error;
      fail(dir, "cannot create the run directory: " + errno_text());
    }
    sync_directory(parent);
    return lock;
  } catch (const Error& e) {
    fs::remove_all(staging, ec);
    // Name the run, not its hidden staging folder: "runs/x/config.json: cannot write: ...".
    std::string message = e.what();
    for (std::size_t at; (at = message.find(staging.string())) != std::string::npos;)
      message.replace(at, staging.string().size(), dir.string());
    throw Error(message);
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
}

RunLock lock_run_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(dir, "no such run directory");
  if (!fs::exists(dir / "config.json", ec))
    fail(dir, "holds no run (no config.json); start one with --out " + dir.string());
  RunLock lock = RunLock::acquire(dir);
  remove_stale_temporaries(dir);
  return lock;
}

TrainConfig read_run_config(const fs::path& dir) {
  const fs::path file = dir / "config.json";
  std::ifstream in(file);
  if (!in) fail(file, "cannot read (is " + dir.string() + " a run directory?)");
  try {
    TrainConfig c = train_config_from_saved(json::parse(in));
    c.validate();
    return c;
  } catch (const ConfigError& e) {
    fail(file, e.key + " " + e.problem);
  } catch (const json::exception& e) {
    fail(file, std::string("not a valid run configuration: ") + e.what());
  }
}

std::string last_kernel_set(const fs::path& dir) {
  std::ifstream in(dir / "config.json");
  const json saved = json::parse(in, nullptr, false);
  if (!saved.is_object()) return "";
  const json resumed = saved.value("resumed", json::array());
  const json& last = resumed.is_array() && !resumed.empty() ? resumed.back() : saved.value("provenance", json());
  return last.is_object() ? last.value("onednn_isa", "") : "";
}

void rewrite_run_config(const fs::path& dir, const TrainConfig& config) {
  json saved = config;
  std::ifstream in(dir / "config.json");
  const json before = json::parse(in, nullptr, false);
  if (before.is_object() && before.contains("provenance")) saved["provenance"] = before["provenance"];
  saved["resumed"] = before.is_object() ? before.value("resumed", json::array()) : json::array();
  saved["resumed"].push_back(provenance(config.threads));
  write_json(dir / "config.json", saved);
}

void save_training_checkpoint(const fs::path& file, const TrainConfig& config,
                              const TrainingState& state, const NetworkBase& net) {
  json meta = {{"format", "normlab-training"},
               {"config", config},
               {"state",
                {{"epoch", state.epoch}, {"step", state.step}, {"loss_sum", state.loss_sum},
                 {"correct", state.correct}, {"seen", state.seen}, {"seconds", state.seconds}}},
               {"history", state.history},
               {"since_sample", state.since_sample},
               {"diagnostics", state.diagnostics},
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
    const std::string difference = config_difference(train_config_from_saved(meta.at("config")), config);
    if (!difference.empty()) throw Error(where + "checkpoint is for " + difference);
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
    // Checkpoints written before the diagnostics existed have none to continue.
    if (meta.contains("since_sample")) meta.at("since_sample").get_to(state.since_sample);
    if (meta.contains("diagnostics")) meta.at("diagnostics").get_to(state.diagnostics);
  } catch (const json::exception& e) {
    throw Error(where + "checkpoint metadata is incomplete: " + e.what());
  }
  if (state.epoch < 0 || state.step < 0 || int(state.history.size()) != state.epoch)
    throw Error(where + "checkpoint state is inconsistent (epoch " + std::to_string(state.epoch) + ")");
  if (state.epoch > config.epochs || (state.epoch == config.epochs && state.step > 0))
    throw Error(where + "the run is already past epoch " + std::to_string(config.epochs) +
                " (it has completed " + std::to_string(state.epoch) + "); --epochs cannot shorten it");
  // Sizes first, then copy: a mismatch leaves the network untouched.
  const std::pair<const char*, std::span<float>> targets[] = {
      {"parameters", net.parameters()}, {"momentum", net.momentum()}, {"buffers", net.buffers()}};
  for (const auto& [name, target] : targets)
    if (ckpt.blob(name).size() != target.size_bytes())
      throw Error(where + "checkpoint " + name + " hold " + std::to_string(ckpt.blob(name).size()) +
                  " bytes, this network needs " + std::to_string(target.size_bytes()));
  // Non-finite values are refused before anything is copied: a diverged state never resumes.
  for (const auto& [name, target] : targets) {
    const auto blob = ckpt.blob(name);
    const std::string problem = non_finite_values(
        {reinterpret_cast<const float*>(blob.data()), blob.size() / sizeof(float)});
    if (!problem.empty()) throw Error(where + "checkpoint " + name + " " + problem);
  }
  for (const auto& [name, target] : targets)
    std::memcpy(target.data(), ckpt.blob(name).data(), target.size_bytes());
  const std::string problem = first_non_finite_tensor(weight_views(net));
  if (!problem.empty()) throw Error(where + "checkpoint tensor " + problem);
  return state;
}

void write_epoch_outputs(const fs::path& dir, const TrainConfig& config, const TrainingState& state,
                         const NetworkBase& net) {
  // The caller has checked the state is finite: a checkpoint is only ever replaced by a good one.
  save_training_checkpoint(dir / kCheckpointName, config, state, net);
  if (state.history.empty()) return;
  write_metrics_csv(dir / "metrics.csv", state.history);
  write_metrics_json(dir / "metrics.json", state.history);
  plot_training_curves(dir / "curves.png", state.history,
                       network_display_name(config.net) + " / " + norm_display_name(config.norm));
  if (state.diagnostics.empty()) return;
  write_diagnostics_csv(dir / "diagnostics.csv", state.diagnostics);
  plot_diagnostics(dir / "diagnostics.png", state.diagnostics,
                   "Diagnostics, " + network_display_name(config.net) + " / " + norm_display_name(config.norm));
}

namespace {
// This process's provenance, with the run's start time (config.json's) and the end time.
json run_provenance(const fs::path& dir, const TrainConfig& config) {
  json p = provenance(config.threads);
  std::ifstream in(dir / "config.json");
  const json saved = json::parse(in, nullptr, false);
  p["started"] = saved.is_object() && saved.contains("provenance")
                     ? saved["provenance"].value("time", "")
                     : "";
  p["ended"] = p["time"];
  p.erase("time");
  return p;
}

json summary_basics(const TrainConfig& config, const TrainingState& state, const NetworkBase& net) {
  double best_test = 0, best_train = 0, seconds = 0;
  for (const auto& m : state.history) {
    best_test = std::max(best_test, m.test_accuracy);
    best_train = std::max(best_train, m.train_accuracy);
    seconds += m.seconds;
  }
  return {{"net", config.net},
          {"norm", config.norm},
          {"norm_batch", config.statistics_batch()},
          {"batch", config.batch},
          {"seed", config.seed},
          {"parameters", net.parameter_count()},
          {"epochs", state.epoch},
          {"best_train_accuracy", best_train},
          {"best_test_accuracy", best_test},
          {"seconds_per_epoch", state.history.empty() ? 0.0 : seconds / double(state.history.size())},
          {"evaluated_on", config.holdout > 0 ? "holdout" : "test"}};
}
}  // namespace

void write_final_outputs(const fs::path& dir, const TrainConfig& config, const TrainingState& state,
                         const Evaluation& eval, const ImageSet& eval_set,
                         const std::vector<std::string>& class_names, const NetworkBase& net) {
  const std::string title = network_display_name(config.net) + " / " + norm_display_name(config.norm);
  write_confusion_csv(dir / "confusion.csv", eval.confusion, class_names);
  plot_confusion(dir / "confusion.png", eval.confusion, class_names, "Confusion matrix, " + title);
  // The first 20 misclassified images, in set order: the same every run of the same weights.
  std::vector<GalleryImage> wrong;
  for (int i = 0; i < eval_set.count && wrong.size() < 20; ++i)
    if (eval.predictions[std::size_t(i)] != eval_set.label(i))
      wrong.push_back({eval_set.pixels(i), eval.predictions[std::size_t(i)], eval_set.label(i)});
  draw_gallery(dir / "misclassified.png", wrong, class_names, "Misclassified, " + title);
  export_weights(dir / "weights", weight_views(net));
  json summary = {{"status", "finished"}};
  summary.update(summary_basics(config, state, net));
  summary["final_train_accuracy"] = state.history.back().train_accuracy;
  summary["final_test_accuracy"] = eval.accuracy;
  summary["final_test_loss"] = eval.loss;
  summary["weights_hash"] = weights_hash(net);
  summary["provenance"] = run_provenance(dir, config);
  write_json(dir / "summary.json", summary);
}

void write_diverged_summary(const fs::path& dir, const TrainConfig& config,
                            const TrainingState& last_good, const Divergence& divergence,
                            const NetworkBase& net) {
  json summary = {{"status", "diverged"},
                  {"diverged_at", {{"epoch", divergence.epoch}, {"step", divergence.step}}},
                  {"what", divergence.what}};
  summary.update(summary_basics(config, last_good, net));
  summary["epochs"] = last_good.epoch;  // completed before the divergence, as the checkpoint holds
  summary["provenance"] = run_provenance(dir, config);
  write_json(dir / "summary.json", summary);
}

RunStatus read_run_status(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir / "config.json", ec)) return RunStatus::none;
  if (!fs::exists(dir / "summary.json", ec)) return RunStatus::unfinished;
  std::ifstream in(dir / "summary.json");
  try {
    const std::string status = json::parse(in).value("status", "");
    if (status == "finished") return RunStatus::finished;
    if (status == "diverged") return RunStatus::diverged;
  } catch (const json::exception&) {
  }
  fail(dir / "summary.json", "has no status 'finished' or 'diverged' (damaged, or from an older normlab)");
}

}  // namespace normlab
