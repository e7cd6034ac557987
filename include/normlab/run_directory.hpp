// A run directory: config.json, metrics (CSV, JSON), curves, confusion matrix, gallery of
// misclassified images, final weights as .npy, summary.json, and checkpoint.bin, which is what
// `normlab train --resume DIR` continues from.
#pragma once

#include <filesystem>

#include "normlab/cifar10.hpp"
#include "normlab/network.hpp"
#include "normlab/trainer.hpp"

namespace normlab {

inline constexpr const char* kCheckpointName = "checkpoint.bin";

// Creates the directory and writes config.json. Refuses a directory that already holds a run,
// so nothing is overwritten by accident.
void start_run_directory(const std::filesystem::path& dir, const TrainConfig& config);
TrainConfig read_run_config(const std::filesystem::path& dir);

// After every epoch: the checkpoint, metrics files and curves.
void write_epoch_outputs(const std::filesystem::path& dir, const TrainConfig& config,
                         const TrainingState& state, const NetworkBase& net);
// At the end: confusion matrix, gallery, weights, summary.json.
void write_final_outputs(const std::filesystem::path& dir, const TrainConfig& config,
                         const TrainingState& state, const Evaluation& eval, const ImageSet& eval_set,
                         const std::vector<std::string>& class_names, const NetworkBase& net);

// Training checkpoints (tensors, optimizer state, counters, metrics so far), written atomically.
void save_training_checkpoint(const std::filesystem::path& file, const TrainConfig& config,
                              const TrainingState& state, const NetworkBase& net);
// Verifies the checkpoint fits this config and network before touching the network; on any
// mismatch throws an Error naming it and leaves network and files as they were.
TrainingState load_training_checkpoint(const std::filesystem::path& file, const TrainConfig& config,
                                       NetworkBase& net);

}  // namespace normlab
