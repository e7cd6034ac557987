// One point of a sweep: what a child process of a local sweep or a Slurm array task runs.
#include <unistd.h>

#include <cstdio>

#include "commands.hpp"
#include "normlab/data/cifar10.hpp"
#include "normlab/base/error.hpp"
#include "normlab/train/run_lock.hpp"
#include "sweep_commands.hpp"

namespace normlab::cli {

namespace fs = std::filesystem;

std::vector<std::string> plan_words(const SweepArgs& a, const SweepPlan& plan) {
  auto absolute = [](const std::string& path) { return fs::absolute(path).string(); };
  std::vector<std::string> words = {fs::read_symlink("/proc/self/exe").string(), "sweep"};
  if (!a.file.empty()) words.push_back(absolute(a.file));
  for (const auto& s : a.overrides.set) words.insert(words.end(), {"--set", s});
  for (const auto& g : a.overrides.grid) words.insert(words.end(), {"--grid", g});
  if (!a.overrides.data_dir.empty()) words.insert(words.end(), {"--data", absolute(a.overrides.data_dir)});
  words.insert(words.end(), {"--out", absolute(plan.dir)});
  words.insert(words.end(), {"--threads", std::to_string(plan.points.front().config.threads)});
  if (a.skip_mismatched) words.push_back("--skip-mismatched");
  return words;
}

std::vector<RunCheck> check_sweep_points(const SweepPlan& plan, bool skip_mismatched) {
  std::vector<RunCheck> checks;
  std::vector<std::size_t> mismatched;
  for (std::size_t i = 0; i < plan.points.size(); ++i) {
    checks.push_back(check_planned_run(plan.points[i].config));
    if (checks.back().action == RunAction::mismatch) mismatched.push_back(i);
  }
  if (!mismatched.empty() && !skip_mismatched) {
    const std::size_t first = mismatched.front();
    const std::string others =
        mismatched.size() == 2   ? std::string(" (and 1 more point)")
        : mismatched.size() > 2 ? " (and " + std::to_string(mismatched.size() - 1) + " more points)"
                                : std::string();
    fail(plan.points[first].config.out_dir,
         "holds a run trained with other settings than the sweep asks: " + checks[first].mismatch +
             others + "; choose another --out, or give --skip-mismatched to leave such runs alone "
             "and report them as not averaged");
  }
  return checks;
}

namespace {

// Starts or resumes the point's training, unless another process holds it.
int train_point(const SweepPlan& plan, const SweepPoint& point, const RunCheck& check) {
  const fs::path dir = point.config.out_dir;
  if (const long holder = run_lock_holder(dir); holder != 0) {
    std::fprintf(stderr, "normlab: %s is in use by process %ld; left to it\n", point.name.c_str(), holder);
    return kExitBusy;
  }
  fs::create_directories(plan.dir);
  const Cifar10 data = Cifar10::load(resolve_data_dir(point.config.data_dir));
  forget_point_failure(plan, point.name);  // it starts training: an earlier failure is history
  try {
    return train_run(point.config, check.action == RunAction::resume, data);
  } catch (const Error&) {
    // Another sweep started this point between our look and our start: it is theirs.
    if (const long holder = run_lock_holder(dir); holder != 0 && holder != ::getpid()) {
      std::fprintf(stderr, "normlab: %s was taken by process %ld; left to it\n", point.name.c_str(), holder);
      return kExitBusy;
    }
    throw;
  }
}

// train_point, leaving a failure record (with the exit code main() gives the error) when it
// ends with an error, so that --list and the report say why the point has no finished run.
int train_point_or_record_failure(const SweepPlan& plan, const SweepPoint& point, const RunCheck& check) {
  try {
    return train_point(plan, point, check);
  } catch (const Error& e) {
    record_point_failure(plan, point.name, {kExitBadInput, e.what(), this_task_log(plan)});
    throw;
  } catch (const std::exception& e) {
    record_point_failure(plan, point.name, {1, std::string("internal error: ") + e.what(), this_task_log(plan)});
    throw;
  }
}

}  // namespace

int run_point(const SweepArgs& args, const SweepPlan& plan, int index) {
  if (index < 0 || index >= int(plan.points.size()))
    fail("--point " + std::to_string(index),
         "out of range: the sweep has points 0.." + std::to_string(plan.points.size() - 1));
  const SweepPoint& point = plan.points[std::size_t(index)];
  const fs::path dir = point.config.out_dir;
  const RunCheck check = check_planned_run(point.config);
  // Refusals and runs already there are about the directory, not a failure of the point.
  switch (check.action) {
    case RunAction::finished:
    case RunAction::diverged:
      forget_point_failure(plan, point.name);
      std::fprintf(stderr, "normlab: %s is already %s\n", point.name.c_str(),
                   run_state_text(check, point.config.epochs).c_str());
      return check.action == RunAction::finished ? kExitOk : kExitDiverged;
    case RunAction::mismatch:
      if (!args.skip_mismatched)
        fail(dir, "holds a run trained with other settings than the sweep asks: " + check.mismatch +
                      "; choose another --out, or give --skip-mismatched to leave it alone");
      std::fprintf(stderr, "normlab: %s left alone: %s\n", point.name.c_str(),
                   run_state_text(check, point.config.epochs).c_str());
      return kExitOk;
    case RunAction::start:
    case RunAction::resume: break;
  }
  return train_point_or_record_failure(plan, point, check);
}

}  // namespace normlab::cli
