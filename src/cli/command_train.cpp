#include <cstdio>

#include "commands.hpp"
#include "normlab/error.hpp"
#include "normlab/run_directory.hpp"
#include "normlab/trainer.hpp"

namespace normlab::cli {

namespace fs = std::filesystem;

int train_run(TrainConfig config, bool resume, const Cifar10& data) {
  const fs::path dir = config.out_dir;
  // The Trainer first: a configuration it refuses (say, a --limit below one batch) must not
  // leave behind a run directory that then blocks --out and cannot be resumed.
  Trainer trainer(config, data);
  if (!resume) start_run_directory(dir, config);
  TrainingState state;
  if (resume) {
    state = load_training_checkpoint(dir / kCheckpointName, config, trainer.network());
    std::fprintf(stderr, "normlab: resuming %s at epoch %d, step %d\n", dir.c_str(), state.epoch + 1,
                 state.step);
  }
  install_stop_handlers();
  const bool finished = trainer.run(state, [&](const TrainingState& s) {
    write_epoch_outputs(dir, config, s, trainer.network());
  });
  if (!finished) {
    write_epoch_outputs(dir, config, state, trainer.network());
    std::fprintf(stderr,
                 "normlab: stopped at epoch %d, step %d; checkpoint saved. Resume with: normlab "
                 "train --resume %s\n",
                 state.epoch + 1, state.step, dir.c_str());
    return 130;
  }
  const Evaluation eval = trainer.evaluate();
  write_final_outputs(dir, config, state, eval, trainer.eval_set(), data.class_names(),
                      trainer.network());
  std::fprintf(stderr, "normlab: %s/%s finished: test accuracy %.2f%%, run directory %s\n",
               config.net.c_str(), config.norm.c_str(), eval.accuracy, dir.c_str());
  return 0;
}

void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "train one network with one normalisation");
  auto options = std::make_shared<RecipeOptions>();
  options->add_to(*cmd);
  auto out = std::make_shared<std::string>();
  auto resume = std::make_shared<std::string>();
  cmd->add_option("--out", *out, "run directory to create (default runs/<net>-<norm>-seed<S>)");
  cmd->add_option("--resume", *resume, "continue the run in this directory from its checkpoint");
  cmd->callback([cmd, options, out, resume] {
    int code = 0;
    if (!resume->empty()) {
      TrainConfig config = read_run_config(*resume);
      config.out_dir = *resume;
      if (cmd->count("--data")) config.data_dir = options->values.data_dir;
      const Cifar10 data = Cifar10::load(resolve_data_dir(config.data_dir));
      code = train_run(config, true, data);
    } else {
      TrainConfig config = options->apply(*cmd);
      config.out_dir = !out->empty() ? *out
                                     : "runs/" + config.net + "-" + config.norm + "-seed" +
                                           std::to_string(config.seed);
      const Cifar10 data = Cifar10::load(resolve_data_dir(config.data_dir));
      code = train_run(config, false, data);
    }
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace normlab::cli
