// Failure records: a sweep point whose process ended with an error leaves failed/NAME.json in
// the sweep directory, so that listings and reports say "failed (exit 2: ...)" and where its
// output is, rather than "not started".
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "normlab/io/atomic_file.hpp"
#include "sweep_commands.hpp"

namespace normlab::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path failure_file(const SweepPlan& plan, const std::string& name) {
  return plan.dir / "failed" / (name + ".json");
}

}  // namespace

std::optional<PointFailure> read_point_failure(const SweepPlan& plan, const std::string& name) {
  const fs::path file = failure_file(plan, name);
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  std::ifstream in(file);
  const json record = json::parse(in, nullptr, false);
  // A damaged record still says the point failed; it points at itself for the rest.
  if (!record.is_object()) return PointFailure{0, "unreadable failure record", file.string()};
  PointFailure failure;
  failure.exit_code = record.value("exit", 0);
  failure.error = record.value("error", "");
  failure.log = record.value("log", "");
  return failure;
}

void record_point_failure(const SweepPlan& plan, const std::string& name, const PointFailure& failure) {
  // Called while another error is on its way out: a record that cannot be written is noted,
  // never allowed to replace that error.
  try {
    const json record = {{"exit", failure.exit_code}, {"error", failure.error}, {"log", failure.log}};
    fs::create_directories(plan.dir / "failed");
    write_file_atomically(failure_file(plan, name), record.dump(2) + "\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "normlab: note: cannot record the failure of %s: %s\n", name.c_str(), e.what());
  }
}

void forget_point_failure(const SweepPlan& plan, const std::string& name) {
  std::error_code ec;
  fs::remove(failure_file(plan, name), ec);
}

std::string this_task_log(const SweepPlan& plan) {
  const char* job = std::getenv("SLURM_ARRAY_JOB_ID");
  const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
  if (job == nullptr || task == nullptr || job[0] == '\0' || task[0] == '\0') return "";
  return (fs::absolute(plan.dir) / "slurm" / (std::string(job) + "_" + task + ".out")).string();
}

}  // namespace normlab::cli
