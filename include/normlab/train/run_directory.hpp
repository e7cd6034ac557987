// A run directory: config.json, metrics (CSV, JSON), curves, confusion matrix, gallery of
// misclassified images, final weights as .npy, summary.json, and checkpoint.bin, which is what
// `normlab train --resume DIR` continues from.
#pragma once

#include <filesystem>

#include "normlab/data/cifar10.hpp"
#include "normlab/engine/network.hpp"
#include "normlab/train/run_lock.hpp"
#include "normlab/train/trainer.hpp"

namespace normlab {

inline constexpr const char* kCheckpointName = "checkpoint.bin";

// Refuses DIR for a new run when it exists and is not empty (an abandoned lock file aside),
// saying what it holds; creates and writes nothing. Called before the data is loaded.
void check_new_run_directory(const std::filesystem::path& dir);
// Claims DIR for a new run: created with mkdir (or an empty existing directory), locked, then
// config.json and an epoch-0 checkpoint, so the run can be resumed from its first second. On
// failure, removes what it made. The run owns DIR for as long as the lock lives.
RunLock start_run_directory(const std::filesystem::path& dir, const TrainConfig& config,
                            const NetworkBase& net);
// Locks an existing run directory for --resume; refuses one that holds no run or is in use.
RunLock lock_run_directory(const std::filesystem::path& dir);

// "" when `wanted` continues the run `saved` describes (paths aside; the length too, where the
// schedule allows extending); else the first setting that differs: "norm = \"group\", this run
// has \"batch\"".
std::string config_difference(const TrainConfig& saved, const TrainConfig& wanted);

// config.json; an error names the file and the setting at fault.
TrainConfig read_run_config(const std::filesystem::path& dir);
void rewrite_run_config(const std::filesystem::path& dir, const TrainConfig& config);
// The oneDNN kernel set (provenance's onednn_isa) the run last trained with: its latest
// resume's, else its start's; empty if config.json does not say.
std::string last_kernel_set(const std::filesystem::path& dir);

// After every epoch: the checkpoint, metrics files and curves. The state must be finite.
void write_epoch_outputs(const std::filesystem::path& dir, const TrainConfig& config,
                         const TrainingState& state, const NetworkBase& net);
// At the end: confusion matrix, gallery, weights, summary.json with "status": "finished".
void write_final_outputs(const std::filesystem::path& dir, const TrainConfig& config,
                         const TrainingState& state, const Evaluation& eval, const ImageSet& eval_set,
                         const std::vector<std::string>& class_names, const NetworkBase& net);
// summary.json with "status": "diverged", where and what; the checkpoint stays the last good one.
void write_diverged_summary(const std::filesystem::path& dir, const TrainConfig& config,
                            const TrainingState& last_good, const Divergence& divergence,
                            const NetworkBase& net);

enum class RunStatus { none, unfinished, finished, diverged };
RunStatus read_run_status(const std::filesystem::path& dir);

// Training checkpoints (tensors, optimizer state, counters, metrics so far), written atomically.
void save_training_checkpoint(const std::filesystem::path& file, const TrainConfig& config,
                              const TrainingState& state, const NetworkBase& net);
// Verifies the checkpoint fits this config and network and holds only finite values before
// the run goes on; on any mismatch throws an Error naming it (the network may then hold part
// of the checkpoint and must not be used).
TrainingState load_training_checkpoint(const std::filesystem::path& file, const TrainConfig& config,
                                       NetworkBase& net);

}  // namespace normlab
