#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "normlab/train/models.hpp"
#include "normlab/train/run_directory.hpp"
#include "normlab/io/atomic_file.hpp"
#include "normlab/train/evaluator.hpp"
#include "normlab/train/weights.hpp"
#include "normlab/io/weights_directory.hpp"

namespace normlab::cli {

namespace fs = std::filesystem;

void add_eval_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "test loss and accuracy of exported or imported weights");
  auto config = std::make_shared<TrainConfig>();
  auto weights = std::make_shared<std::string>();
  auto json_out = std::make_shared<std::string>();
  cmd->add_option("--weights", *weights,
                  "a run directory, or a directory of .npy files with manifest.json; from a run, "
                  "--net, --norm, --groups and --tta default to the run's")
      ->required()
      ->group(kRunGroup);
  cmd->add_option("--json", *json_out, "also write the result to this JSON file")->group(kRunGroup);
  // Without a run directory to read them from, the network is TrainConfig's default.
  auto with_default = [](const std::string& what, const auto& value) {
    return fmt::format("{} (default: {})", what, value);
  };
  cmd->add_option("--net", config->net, with_default("network: " + network_names_text(), config->net))
      ->check(CLI::IsMember(network_names()))
      ->group(kNetworkGroup);
  cmd->add_option("--norm", config->norm, with_default("normalisation: " + norm_names_text(), config->norm))
      ->check(CLI::IsMember(norm_names()))
      ->group(kNetworkGroup);
  cmd->add_option("--groups", config->groups, with_default("GroupNorm's groups", config->groups))->group(kNetworkGroup);
  cmd->add_option("--batch-size", config->batch, with_default("images per forward pass", config->batch))->group(kRunGroup);
  cmd->add_option("--threads", config->threads, with_default("CPU threads", config->threads))->group(kRunGroup);
  cmd->add_flag("--tta", config->test_time_flip, "average with the mirror image")->group(kRunGroup);
  cmd->add_option("--data", config->data_dir, "CIFAR-10 binary directory")->group(kDataGroup);
  cmd->callback([cmd, config, weights, json_out] {
    // A run directory holds weights/ beside config.json; its recipe names the network.
    fs::path dir = *weights, run;
    if (fs::is_regular_file(dir / "config.json") && fs::is_directory(dir / "weights")) {
      run = dir;
      dir /= "weights";
    } else if (fs::is_regular_file(dir.parent_path() / "config.json")) {
      run = dir.parent_path();
    }
    if (!run.empty()) {
      const TrainConfig saved = read_run_config(run);
      if (cmd->count("--net") == 0) config->net = saved.net;
      if (cmd->count("--norm") == 0) config->norm = saved.norm;
      if (cmd->count("--groups") == 0) config->groups = saved.groups;
      if (cmd->count("--tta") == 0) config->test_time_flip = saved.test_time_flip;
    }
    validate_naming_options(*config);
    const Cifar10 data = Cifar10::load(resolve_data_dir(config->data_dir));
    use_threads(config->threads);
    const auto net = make_network(config->net, config->norm, config->batch, 0, {}, config->groups);
    import_weights(dir, weight_views(*net));
    Evaluator evaluator(*net, data.test(), config->test_time_flip);
    const Evaluation e = evaluator.evaluate();
    const nlohmann::json result = {{"net", config->net},       {"norm", config->norm},
                                   {"weights", dir.string()},  {"images", data.test().count},
                                   {"test_loss", e.loss},      {"test_accuracy", e.accuracy},
                                   {"tta", config->test_time_flip}};
    std::printf("%s\n", result.dump(2).c_str());
    if (!json_out->empty()) {
      const std::string text = result.dump(2) + "\n";
      write_file_atomically(*json_out, text);
    }
  });
}

}  // namespace normlab::cli
