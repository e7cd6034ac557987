// The command-line program's commands. Each returns the process exit code; errors at the
// boundaries are thrown as normlab::Error and turned into one line by main().
#pragma once

#include <CLI/CLI.hpp>

#include "normlab/base/choices.hpp"
#include "normlab/train/train_config.hpp"

namespace normlab::cli {

// The headings of --help, shared by every command's own options and the option table's.
inline constexpr const char* kNetworkGroup = "Network";
inline constexpr const char* kOptimiserGroup = "Optimiser";
inline constexpr const char* kAugmentationGroup = "Augmentation";
inline constexpr const char* kDataGroup = "Data";
inline constexpr const char* kRunGroup = "Run";

// The network trained when no --net is given.
inline constexpr const char* kDefaultNetwork = "seed";

// The training options shared by `train`, `compare` and `sweep`, declared once in a table
// (recipe_options.cpp). Only the options given on the command line override a recipe.
class RecipeOptions {
 public:
  // An option of the table that a command does not honour: given, it is refused with the reason.
  struct RefusedOption {
    const char* flag;
    const char* reason;  // "compare trains every norm of --norms"
  };
  void add_to(CLI::App& app, const std::vector<RefusedOption>& refused = {});
  // Only the table's options of `flags` (for a command that uses a few, like summary).
  void add_only(CLI::App& app, const std::vector<std::string>& flags);
  // The recipe of the network given with --net (default seed), with the given options applied
  // and validated; an Error names the option at fault.
  TrainConfig apply(const CLI::App& app) const;
  // `base` with the given options applied and validated.
  TrainConfig apply_to(const TrainConfig& base, const CLI::App& app) const;
  // The given options, other than `allowed`, that would change `saved`, each as
  // "--lr (0.5, the run has 0.01)".
  std::vector<std::string> changed_options(const TrainConfig& saved, const CLI::App& app,
                                           const std::vector<std::string>& allowed) const;

 private:
  TrainConfig parsed_;  // what CLI11 parsed; only the options given are read from it
  std::vector<RefusedOption> refused_;
  std::vector<std::string> only_;  // empty: every option of the table
  std::string refused_value_;  // where a refused option's value goes, unread
};

// An option taking one of an enum's names (its ChoiceTable): --help lists the names and what
// each means; any other word is refused naming the choices.
template <Chosen E>
CLI::Option* add_choice_option(CLI::App& app, const std::string& flag, E& value, const std::string& help) {
  return app
      .add_option_function<std::string>(
          flag,
          [&value, flag](const std::string& text) {
            const auto found = named<E>(text);
            if (!found) throw CLI::ValidationError(flag, "must be " + choices_text<E>() + ", not '" + text + "'");
            value = *found;
          },
          help + " (" + choices_help<E>() + ")")
      ->type_name("{" + [] {
        std::string names;
        for (const auto& n : names_of<E>()) names += (names.empty() ? "" : ",") + n;
        return names;
      }() + "}");
}

// The resolved recipe in two lines, each opening with the network and norm: network and
// optimiser settings, then augmentation, data and run ("SeedNet with BatchNorm: net=seed ...").
std::vector<std::string> recipe_lines(const TrainConfig& config);
// The option table as keys of a sweep file ("lr", "nesterov / no-nesterov"), by group, each with
// its default in every recipe: the end of `sweep --help`.
std::string recipe_keys_help();

// Validates, naming a setting by its option ("--lr must be in (0, 10]").
void validate_naming_options(const TrainConfig& config);
// Refuses, naming the option, convolutions this CPU or build cannot run (TrainConfig::check_this_cpu).
void check_this_cpu_naming_options(const TrainConfig& config);
// "learning_rate" -> "--lr"; a key without an option is returned as it is.
std::string option_for_key(const std::string& key);
// Every option of the table, in its order ("--net", "--norm", ...).
std::vector<std::string> recipe_option_flags();
// The switch that sets a true/false setting to `value` ("--no-flip" for augment.flip false),
// or "augment.flip=true" where no switch does.
std::string switch_for(const std::string& key, bool value);

void add_train_command(CLI::App& app);
void add_compare_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_summary_command(CLI::App& app);
void add_sweep_command(CLI::App& app);

// The exit codes (README, "Reliability").
inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;   // a bug: an exception normlab did not expect
inline constexpr int kExitBadInput = 2;   // an option, a file or a checkpoint refused
inline constexpr int kExitDiverged = 3;   // a loss or parameter went non-finite
inline constexpr int kExitStopped = 130;  // SIGINT/SIGTERM: checkpoint saved, resumable

// Trains one configuration into config.out_dir (or continues the run there), writing the run
// directory as it goes, holding its lock. Returns one of the exit codes above.
// With stop_after_epoch > 0 it stops at that epoch's end, checkpointed and resumable (exit 0).
int train_run(TrainConfig config, bool resume, const class Cifar10& data, int stop_after_epoch = 0);

}  // namespace normlab::cli
