// The command-line program's commands. Each returns the process exit code; errors at the
// boundaries are thrown as normlab::Error and turned into one line by main().
#pragma once

#include <CLI/CLI.hpp>

#include "normlab/train_config.hpp"

namespace normlab::cli {

// Options shared by `train` and `compare`: everything a user tunes in a recipe. Only the
// options given on the command line override the chosen network's recipe.
struct RecipeOptions {
  TrainConfig values;
  std::string schedule = "constant";
  float jitter = 0.2f;
  bool no_flip = false, no_crop = false, no_jitter = false, no_cutout = false, no_tta = false,
       no_nesterov = false;

  void add_to(CLI::App& app);
  TrainConfig apply(const CLI::App& app) const;  // the recipe of values.net, overridden
};

void add_train_command(CLI::App& app);
void add_compare_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_summary_command(CLI::App& app);

// Trains one configuration into config.out_dir (or continues the run there), writing the run
// directory as it goes. Returns 0, or 130 if a signal stopped it (with a checkpoint saved).
int train_run(TrainConfig config, bool resume, const class Cifar10& data);

}  // namespace normlab::cli
