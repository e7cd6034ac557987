#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "normlab/engine/conv_options.hpp"
#include "normlab/base/error.hpp"
#include "normlab/train/models.hpp"
#include "normlab/train/provenance.hpp"
#include "normlab/train/run_directory.hpp"
#include "normlab/train/stop_signal.hpp"
#include "normlab/train/trainer.hpp"

namespace normlab::cli {

namespace fs = std::filesystem;

namespace {
void print_recipe(std::FILE* to, const TrainConfig& config) {
  for (const std::string& line : recipe_lines(config)) std::fprintf(to, "%s\n", line.c_str());
}
}  // namespace

int train_run(TrainConfig config, bool resume, const Cifar10& data, int stop_after_epoch) {
  const fs::path dir = config.out_dir;
  check_this_cpu_naming_options(config);
  // Recorded as the absolute path used, also when it came from $NORMLAB_DATA or the default.
  config.data_dir = fs::absolute(resolve_data_dir(config.data_dir)).lexically_normal().string();
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
      std::fprintf(stderr, "normlab: %s is finished (%d epoch%s); nothing to do\n", dir.c_str(),
                   config.epochs, config.epochs == 1 ? "" : "s");
      return kExitOk;
    }
    // Another machine's kernels round differently: say so, as the run's bits now depend on both.
    const std::string before = last_kernel_set(dir);
    const std::string now = provenance(config.threads).value("onednn_isa", "");
    if (!before.empty() && before != now)
      std::fprintf(stderr,
                   "normlab: note: %s trained on oneDNN's %s kernels until now and continues on %s: "
                   "its results are no longer what either machine gives alone\n",
                   dir.c_str(), before.c_str(), now.c_str());
    rewrite_run_config(dir, config);  // --epochs may have changed it
    std::error_code ignored;
    fs::remove(dir / "summary.json", ignored);  // it describes a shorter or diverged run
    std::fprintf(stderr, "normlab: resuming %s at epoch %d, step %d of %d epoch%s\n", dir.c_str(),
                 state.epoch + 1, state.step, config.epochs, config.epochs == 1 ? "" : "s");
  } else {
    lock = start_run_directory(dir, config, trainer.network());
  }
  // Once nothing is left to refuse: a refusal stays the one line on stderr.
  print_recipe(stderr, config);
  if (config.precision == Precision::bf16 && !cpu_has_native_bf16())
    std::fprintf(stderr,
                 "normlab: note: this CPU has no AVX512_BF16; oneDNN emulates bf16 convolutions, "
                 "which is slower than f32 (normlab_bench conv_kernels/ shows by how much)\n");
  install_stop_handlers();
  TrainingState last_good = state;
  const Outcome outcome = trainer.run(
      state,
      [&](const TrainingState& s) {
        write_epoch_outputs(dir, config, s, trainer.network());
        last_good = s;
      },
      stop_after_epoch);
  if (outcome == Outcome::diverged) {
    const Divergence& d = trainer.divergence();
    write_diverged_summary(dir, config, last_good, d, trainer.network());
    std::fprintf(stderr,
                 "normlab: error: %s diverged at epoch %d, step %d: %s; the checkpoint stays at "
                 "the last good state (epoch %d)\n",
                 dir.c_str(), d.epoch, d.step, d.what.c_str(), last_good.epoch);
    return kExitDiverged;
  }
  if (outcome == Outcome::stopped && stop_after_epoch > 0 && state.epoch == stop_after_epoch &&
      state.step == 0) {
    std::fprintf(stderr, "normlab: stopped after epoch %d as asked (--stop-after). Resume with: "
                         "normlab train --resume %s\n", state.epoch, dir.c_str());
    return kExitOk;
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
               network_display_name(config.net).c_str(), config.norm.c_str(), eval.accuracy, dir.c_str());
  return kExitOk;
}

TrainConfig resumed_config(const fs::path& dir, const RecipeOptions& options, const CLI::App& cmd) {
  const TrainConfig saved = read_run_config(dir);
  std::vector<std::string> may_change = {"--epochs", "--data"};  // and the execution settings
  for (std::string_view key : kExecutionSettings) may_change.push_back("--" + std::string(key));
  const auto changed = options.changed_options(saved, cmd, may_change);
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

namespace {
// The recipe of another run: DIR/config.json or the file itself (a published study's
// NAME-config.json). Its paths are not taken: the data and output are this run's.
TrainConfig liked_config(const fs::path& path) {
  const fs::path dir = fs::is_directory(path) ? path : path.parent_path();
  TrainConfig config;
  if (fs::is_directory(path)) {
    config = read_run_config(dir);
  } else {
    std::ifstream in(path);
    if (!in) fail(path, "cannot read (give a run directory or its config.json)");
    try {
      config = train_config_from_saved(nlohmann::json::parse(in));
      config.validate();
    } catch (const ConfigError& e) {
      fail(path, e.key + " " + e.problem);
    } catch (const nlohmann::json::exception& e) {
      fail(path, std::string("not a valid run configuration: ") + e.what());
    }
  }
  config.data_dir.clear();
  config.out_dir.clear();
  return config;
}
}  // namespace

void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "train one network with one normalisation");
  auto options = std::make_shared<RecipeOptions>();
  options->add_to(*cmd);
  auto out = std::make_shared<std::string>();
  auto resume = std::make_shared<std::string>();
  auto like = std::make_shared<std::string>();
  auto stop_after = std::make_shared<int>(0);
  auto dry_run = std::make_shared<bool>(false);
  auto* out_option =
      cmd->add_option("--out", *out, "run directory to create (default runs/<net>-<norm>-seed<S>)")
          ->group(kRunGroup);
  cmd->add_option("--resume", *resume,
                  "continue the run in this directory from its checkpoint (with --epochs: a new "
                  "total, constant schedule only); not with --out or --like")
      ->excludes(out_option)
      ->group(kRunGroup);
  cmd->add_option("--like", *like,
                  "start from another run's recipe (its directory or config.json) instead of the "
                  "network's; the options given change it")
      ->excludes("--resume")
      ->group(kRunGroup);
  cmd->add_option("--stop-after", *stop_after,
                  "stop once this many epochs are done, checkpointed and resumable (exit 0)")
      ->check(CLI::Range(1, 1000))
      ->group(kRunGroup);
  cmd->add_flag("--dry-run", *dry_run,
                "print the recipe the options resolve to and exit, without reading the data or "
                "writing anything")
      ->group(kRunGroup);
  cmd->callback([cmd, options, out, resume, like, stop_after, dry_run] {
    int code = 0;
    if (!resume->empty()) {
      const TrainConfig config = resumed_config(*resume, *options, *cmd);
      check_this_cpu_naming_options(config);  // before loading the data
      if (*dry_run) return print_recipe(stdout, config);
      const Cifar10 data = Cifar10::load(resolve_data_dir(config.data_dir));
      code = train_run(config, true, data, *stop_after);
    } else {
      TrainConfig config = like->empty() ? options->apply(*cmd) : options->apply_to(liked_config(*like), *cmd);
      config.out_dir = !out->empty() ? *out
                                     : "runs/" + config.net + "-" + config.norm + "-seed" +
                                           std::to_string(config.seed);
      check_this_cpu_naming_options(config);
      check_new_run_directory(config.out_dir);  // before minutes of loading and building
      if (*dry_run) return print_recipe(stdout, config);
      const Cifar10 data = Cifar10::load(resolve_data_dir(config.data_dir));
      code = train_run(config, false, data, *stop_after);
    }
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace normlab::cli
