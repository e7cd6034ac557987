#include "run_reuse.hpp"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "normlab/train/models.hpp"
#include "normlab/train/run_directory.hpp"

namespace normlab::cli {

using nlohmann::json;

std::string value_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return fmt::format("{}", v.get<double>());
  return v.dump();
}

namespace {

// "/augment/brightness" -> "augment.brightness", the key the option table knows.
std::string dotted(const std::string& pointer) {
  std::string key = pointer.substr(1);
  for (char& ch : key)
    if (ch == '/') ch = '.';
  return key;
}

// The norm batch as the computation sees it: BatchNorm's 0 means the whole batch (so 0 and the
// batch size are one recipe), and the norms without batch statistics ignore it.
json with_effective_norm_batch(const TrainConfig& config) {
  json j = config;
  j["norm_batch"] = norm_uses_batch_statistics(config.norm) ? config.statistics_batch() : 0;
  return j;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string text;
  for (const auto& part : parts) text += (text.empty() ? "" : "; ") + part;
  return text;
}

}  // namespace

std::vector<std::string> recipe_differences(const TrainConfig& saved, const TrainConfig& wanted) {
  json before = with_effective_norm_batch(saved).flatten();
  json after = with_effective_norm_batch(wanted).flatten();
  std::vector<std::string> differences;
  for (const auto& [pointer, value] : after.items()) {
    // Where the data and the run live, and how it is executed, are not the recipe: the same
    // bits come out of any execution setting. Epochs are checked by the caller.
    const bool execution = std::find(kExecutionSettings.begin(), kExecutionSettings.end(),
                                     pointer.substr(1)) != kExecutionSettings.end();
    if (pointer == "/data_dir" || pointer == "/out_dir" || pointer == "/epochs" || execution) continue;
    const json was = before.contains(pointer) ? before.at(pointer) : json("nothing");
    if (was == value) continue;
    const std::string key = dotted(pointer);
    if (value.is_boolean() && was.is_boolean())  // "--nesterov (the run has --no-nesterov)"
      differences.push_back(fmt::format("{} (the run has {})", switch_for(key, value.get<bool>()),
                                        switch_for(key, was.get<bool>())));
    else
      differences.push_back(fmt::format("{} {} (the run has {})", option_for_key(key),
                                        value_text(value), value_text(was)));
  }
  return differences;
}

RunCheck check_planned_run(const TrainConfig& wanted) {
  RunCheck check;
  const RunStatus status = read_run_status(wanted.out_dir);
  if (status == RunStatus::none) return check;
  const TrainConfig saved = read_run_config(wanted.out_dir);
  check.run_epochs = saved.epochs;
  std::vector<std::string> differences = recipe_differences(saved, wanted);
  if (saved.epochs > wanted.epochs)
    differences.push_back(fmt::format("--epochs {} (the run has {})", wanted.epochs, saved.epochs));
  if (saved.epochs < wanted.epochs && schedule_depends_on_length(saved.schedule))
    differences.push_back(fmt::format("--epochs {} (the run has {}, and its {} schedule cannot be extended)",
                                      wanted.epochs, saved.epochs, schedule_name(saved.schedule)));
  if (!differences.empty()) {
    check.action = RunAction::mismatch;
    check.mismatch = joined(differences);
    return check;
  }
  switch (status) {
    case RunStatus::none:
    case RunStatus::unfinished: check.action = RunAction::resume; break;
    case RunStatus::diverged: check.action = RunAction::diverged; break;
    case RunStatus::finished:
      check.finished_short = saved.epochs < wanted.epochs;
      check.action = check.finished_short ? RunAction::resume : RunAction::finished;
      break;
  }
  return check;
}

namespace {

std::string failure_text(const PointFailure& f) {
  std::string details = f.error;
  if (!f.log.empty()) details += (details.empty() ? "see " : "; see ") + f.log;
  return fmt::format("failed (exit {}{}{})", f.exit_code, details.empty() ? "" : ": ", details);
}

}  // namespace

std::string run_state_text(const RunCheck& check, int wanted_epochs,
                           const std::optional<PointFailure>& failure) {
  // A failure matters only while nothing better is there: a finished, diverged or mismatched
  // run says more than how a later attempt ended.
  const bool open = check.action == RunAction::start || check.action == RunAction::resume;
  if (failure && open) return failure_text(*failure);
  switch (check.action) {
    case RunAction::start: return "not started";
    case RunAction::resume:
      return check.finished_short
                 ? fmt::format("finished {} of {} epochs", check.run_epochs, wanted_epochs)
                 : "unfinished";
    case RunAction::finished: return "finished";
    case RunAction::diverged: return "diverged";
    case RunAction::mismatch: return "trained with other settings: " + check.mismatch;
  }
  return "?";
}

}  // namespace normlab::cli
