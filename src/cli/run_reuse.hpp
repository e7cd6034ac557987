// What a planned run (a sweep point, one run of a comparison) does with its run directory.
// One rule for `sweep` and `compare`: a directory is reused, resumed or extended only when its
// run was trained with the whole recipe asked for (every option of the option table; the data
// and output paths aside), so no report shows a run under settings it was not trained with.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "normlab/train/train_config.hpp"

namespace normlab::cli {

enum class RunAction {
  start,     // nothing there yet
  resume,    // unfinished, or finished short of the epochs asked under a constant schedule
  finished,  // finished with exactly the epochs asked: reused as it is
  diverged,  // stopped at a non-finite value: reused as diverged
  mismatch,  // trained with other settings: never reused, extended or averaged
};

struct RunCheck {
  RunAction action = RunAction::start;
  bool finished_short = false;  // with resume: a finished run of fewer epochs, to be extended
  int run_epochs = 0;           // the epochs the directory's run was set to train (0: none)
  std::string mismatch;         // with mismatch: "--momentum 0.5 (the run has 0.9)", all of them
};

// Looks at wanted.out_dir (config.json and summary.json; an unreadable one is an Error naming
// the file).
RunCheck check_planned_run(const TrainConfig& wanted);

// Every setting in which `saved` differs from `wanted`, named by its option ("--lr 0.1 (the
// run has 0.01)"). The paths and the number of epochs are not compared here.
std::vector<std::string> recipe_differences(const TrainConfig& saved, const TrainConfig& wanted);

// A setting's value as a command line gives it: 0.01, one-cycle, 0 (not 0.0), true.
std::string value_text(const nlohmann::json& value);

// How the last process of a sweep point ended when it ended with an error before finishing.
struct PointFailure {
  int exit_code = 0;
  std::string error;  // its one-line error ("" when it printed none)
  std::string log;    // where its output went ("" when unknown)
};

// The one wording of a planned run's state, for listings and reports: "not started",
// "unfinished", "finished", "finished 5 of 20 epochs", "diverged",
// "trained with other settings: --momentum 0.5 (the run has 0.9)", and for a run not started
// or unfinished whose last process failed, "failed (exit 2: <error>; see <log>)".
std::string run_state_text(const RunCheck& check, int wanted_epochs,
                           const std::optional<PointFailure>& failure = std::nullopt);

}  // namespace normlab::cli
