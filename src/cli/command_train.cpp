#include <cstdio>

#include "commands.hpp"
#include "normlab/conv_options.hpp"
#include "normlab/error.hpp"
#include "normlab/run_directory.hpp"
#include "normlab/stop_signal.hpp"
#include "normlab/trainer.hpp"

namespace normlab::cli {

namespace fs = std::filesystem;

int train_run(TrainConfig config, bool resume, const Cifar10& data) {
  const fs::path dir = config.out_dir;
  check_this_cpu_naming_options(config);
  // The Trainer first: a configuration it refuses (say, a --limit below one batch) must not
  // leave behind a run directory.
  Trainer trainer(config, data);
  TrainingState state;
  RunLock lock;
  if (resume) {
    lock = lock_run_directory(dir);
    // A run directory has its checkpoint from its first second (start_run_directory): one
    // without it was damaged, and starting over would silently replace its outputs.
    if (!fs::exists(dir / kCheckpointName))
      fail(dir / kCheckpointName, "missing, so the run cannot be resumed (its directory is damaged); "
                                  "start a new run with --out");
    state = load_training_checkpoint(dir / kCheckpointName, config, trainer.network());
    if (state.epoch == config.epochs && read_run_status(dir) == RunStatus::finished) {
      std::fprintf(stderr, "normlab: %s is finished (%d epochs); nothing to do\n", dir.c_str(),
                   config.epochs);
      return kExitOk;
    }
    rewrite_run_config(dir, config);  // --epochs may have changed it
    std::error_code ignored;
    fs::remove(dir / "summary.json", ignored);  // it describes a shorter or diverged run
    std::fprintf(stderr, "normlab: resuming %s at epoch %d, step %d of %d epochs\n", dir.c_str(),
                 state.epoch + 1, state.step, config.epochs);
  } else {
    lock = start_run_directory(dir, config, trainer.network());
  }
  if (config.precision == "bf16" && !cpu_has_native_bf16())
    std::fprintf(stderr,
                 "normlab: note: this CPU has no AVX512_BF16; oneDNN emulates bf16 convolutions, "
                 "which is slower than f32 (normlab_bench conv_kernels/ shows by how much)\n");
  install_stop_handlers();
  TrainingState last_good = state;
  const Outcome outcome = trainer.run(state, [&](const TrainingState& s) {
    write_epoch_outputs(dir, config, s, trainer.network());
    last_good = s;
  });
  if (outcome == Outcome::diverged) {
    const Divergence& d = trainer.divergence();
    write_diverged_summary(dir, config, last_good, d, trainer.network());
    std::fprintf(stderr,
                 "normlab: error: %s diverged at epoch %d, step %d: %s; the checkpoint stays at "
                 "the last good state (epoch %d)\n",
                 dir.c_str(), d.epoch, d.step, d.what.c_str(), last_good.epoch);
    return kExitDiverged;
  }
  if (outcome == Outcome::stopped) {
    write_epoch_outputs(dir, config, state, trainer.network());
    std::fprintf(stderr,
                 "normlab: stopped at epoch %d, step %d; checkpoint saved. Resume with: normlab "
                 "train --resume %s\n",
                 state.epoch + 1, state.step, dir.c_str());
    return kExitStopped;
  }
  const Evaluation eval = trainer.evaluate();
  write_final_outputs(dir, config, state, eval, trainer.eval_set(), data.class_names(),
                      trainer.network());
  std::fprintf(stderr, "normlab: %s/%s finished: test accuracy %.2f%%, run directory %s\n",
               config.net.c_str(), config.norm.c_str(), eval.accuracy, dir.c_str());
  return kExitOk;
}

TrainConfig resumed_config(const fs::path& dir, const RecipeOptions& options, const CLI::App& cmd) {
  const TrainConfig saved = read_run_config(dir);
  const auto changed = options.changed_options(saved, cmd, {"--epochs", "--data"});
  if (!changed.empty())
    fail(dir, "a resumed run keeps its recipe, but " + changed.front() +
                  " was given; start a new run with --out instead");
  TrainConfig config = options.apply_to(saved, cmd);
  if (config.epochs != saved.epochs && schedule_depends_on_length(saved.schedule))
    fail(dir, "--epochs " + std::to_string(config.epochs) + ": the " +
                  schedule_name(saved.schedule) +
                  " schedule's rate at every step depends on the run's length (" +
                  std::to_string(saved.epochs) + " epochs), so it cannot be changed on resume");
  config.out_dir = dir.string();
  return config;
}

void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "train one network with one normalisation");
  auto options = std::make_shared<RecipeOptions>();
  options->add_to(*cmd);
  auto out = std::make_shared<std::string>();
  auto resume = std::make_shared<std::string>();
  auto* out_option =
      cmd->add_option("--out", *out, "run directory to create (default runs/<net>-<norm>-seed<S>)");
  cmd->add_option("--resume", *resume,
                  "continue the run in this directory from its checkpoint (with --epochs: a new "
                  "total, constant schedule only)")
      ->excludes(out_option);
  cmd->callback([cmd, options, out, resume] {
    int code = 0;
    if (!resume->empty()) {
      const TrainConfig config = resumed_config(*resume, *options, *cmd);
      check_this_cpu_naming_options(config);  // before loading the data
      const Cifar10 data = Cifar10::load(resolve_data_dir(config.data_dir));
      code = train_run(config, true, data);
    } else {
      TrainConfig config = options->apply(*cmd);
      config.out_dir = !out->empty() ? *out
                                     : "runs/" + config.net + "-" + config.norm + "-seed" +
                                           std::to_string(config.seed);
      check_this_cpu_naming_options(config);
      check_new_run_directory(config.out_dir);  // before minutes of loading and building
      const Cifar10 data = Cifar10::load(resolve_data_dir(config.data_dir));
      code = train_run(config, false, data);
    }
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace normlab::cli
