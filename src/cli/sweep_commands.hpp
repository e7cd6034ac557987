// The jobs of `normlab sweep`, one file each: one point (sweep_point.cpp, what a child process
// or a Slurm array task runs), the points here as child processes (sweep_local.cpp), a Slurm
// job array (sweep_slurm.cpp), the report (sweep_report_writer.cpp). command_sweep.cpp wires
// them to the command line.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "run_reuse.hpp"
#include "sweep_plan.hpp"

namespace normlab::cli {

struct SweepArgs {
  std::string file;
  SweepOverrides overrides;
  std::string out;
  int jobs = 0;
  int point = -1;
  bool report = false, list = false, slurm = false, submit = false;
  bool skip_mismatched = false;  // leave points trained with other settings, report them apart
  std::vector<std::string> reuse_from;  // directories of finished runs a point may take
  std::string partition, time;
  int cpus_per_task = 0;
};

inline constexpr int kExitBusy = 75;  // the point is being trained by another process (EX_TEMPFAIL)

// The words that make another `normlab sweep` see the same plan (child processes, Slurm tasks).
std::vector<std::string> plan_words(const SweepArgs& args, const SweepPlan& plan);

// Every point's state. A point whose directory holds a run of other settings is refused (an
// Error naming the point and the settings) unless skip_mismatched.
std::vector<RunCheck> check_sweep_points(const SweepPlan& plan, bool skip_mismatched);

// A point whose last process failed has failed/NAME.json in the sweep directory (exit code,
// one-line error, where its output went) until a later process starts training it or finds it
// finished. Recording never throws: it runs while another error is on its way out.
std::optional<PointFailure> read_point_failure(const SweepPlan& plan, const std::string& name);
void record_point_failure(const SweepPlan& plan, const std::string& name, const PointFailure& failure);
void forget_point_failure(const SweepPlan& plan, const std::string& name);
// Where a Slurm array task's output goes (the script's --output), "" outside an array task.
std::string this_task_log(const SweepPlan& plan);

// Copies into each point not started yet a finished run found at, or one or two levels below,
// one of `sources` (outside the sweep's directory) that was trained with the point's whole
// recipe; says so on stderr. Returns how many points were filled.
int reuse_finished_runs(const SweepPlan& plan, const std::vector<std::string>& sources);

int run_point(const SweepArgs& args, const SweepPlan& plan, int index);
int run_locally(const SweepArgs& args, const SweepPlan& plan);
int write_slurm(const SweepArgs& args, const SweepPlan& plan);
void write_report(const SweepPlan& plan, bool skip_mismatched);

}  // namespace normlab::cli
