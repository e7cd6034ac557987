// A sweep: a grid of ordinary training runs, read from a small TOML file (and options), each
// point one run directory with a stable name derived from its settings.
//
//   [train]            # options every point shares: train's options without the dashes
//   net = "seed"
//   epochs = 20
//   [grid]             # one list per varied option; the points are every combination
//   norm = ["batch", "group", "layer"]
//   norm-batch = [2, 8, 32, 128]
//   seed = [1, 2, 3]
//   [[skip]]           # optional, repeatable: leave out the points matching every key
//   norm = "batch"
//   seed = [2, 3]
//   [lr-scaling]       # optional: lr = lr x batch-size / reference-batch (the linear rule)
//   rule = "linear"
//   reference-batch = 128
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "normlab/train/train_config.hpp"

namespace normlab::cli {

struct SweepPoint {
  std::string name;               // "seed-batch-b128-nb8-lr0.01-s1": its run directory's name
  TrainConfig config;             // validated; out_dir is the run directory
  std::vector<int> norm_batches;  // the grid's norm batches it stands for (GroupNorm and
                                  // LayerNorm ignore it, so one run serves them all)
};

// Settings given on the command line: they extend or override the file's tables.
struct SweepOverrides {
  std::vector<std::string> set;   // "epochs=1": into [train]
  std::vector<std::string> grid;  // "seed=1,2": into [grid]
  int threads = 0;                // 0: from the file, else $SLURM_CPUS_PER_TASK, else 2
  std::string data_dir;
};

struct SweepPlan {
  std::string name;             // the file's stem, or "sweep"
  std::filesystem::path dir;    // where the run directories and the report go
  std::vector<SweepPoint> points;  // in a stable order: the array index of a Slurm task
};

// Reads FILE (may be empty when the overrides say everything) and expands the grid. Every
// point is checked as `train` would check it; an Error names the file or the option at fault.
SweepPlan read_sweep_plan(const std::filesystem::path& file, const SweepOverrides& overrides,
                          const std::filesystem::path& out_dir);

}  // namespace normlab::cli
