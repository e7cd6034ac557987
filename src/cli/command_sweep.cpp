// `normlab sweep`: a grid of training runs, run here (several at once), run as one point
// (what a Slurm array task does), written as a Slurm job array, listed, or reported.
#include <cstdio>
#include <filesystem>

#include "commands.hpp"
#include "normlab/base/error.hpp"
#include "sweep_commands.hpp"

namespace normlab::cli {

void add_sweep_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "sweep", "a grid of runs (nets x norms x batch sizes x seeds ...), here or on Slurm");
  auto a = std::make_shared<SweepArgs>();
  // The headings of sweep --help: what the points are, what to do with them, where they run.
  constexpr const char* kGridGroup = "Grid";
  constexpr const char* kActionGroup = "Action (at most one; none: run every point here, then report)";
  constexpr const char* kSlurmGroup = "Slurm (with --slurm)";
  cmd->add_option("file", a->file, "sweep file (TOML: [train], [grid], [lr-scaling])");
  cmd->add_option("--set", a->overrides.set, "KEY=VALUE: a train option for every point")
      ->take_all()
      ->group(kGridGroup);
  cmd->add_option("--grid", a->overrides.grid, "KEY=V1,V2,...: a grid axis")->take_all()->group(kGridGroup);
  cmd->add_option("--data", a->overrides.data_dir, "CIFAR-10 binary directory")->group(kDataGroup);
  cmd->add_option("--out", a->out, "directory of the runs and the report (default runs/sweeps/<name>)")
      ->group(kRunGroup);
  cmd->add_option("--threads", a->overrides.threads,
                  "threads per run (default: the file's, else $SLURM_CPUS_PER_TASK, else 2)")
      ->check(CLI::Range(1, 256))
      ->group(kRunGroup);
  cmd->add_option("--jobs", a->jobs, "runs at once (default: cores / threads)")
      ->check(CLI::Range(1, 256))
      ->group(kRunGroup);
  cmd->add_flag("--skip-mismatched", a->skip_mismatched,
                "leave points whose directory holds a run of other settings alone, and report "
                "them as not averaged (without it the sweep refuses them)")
      ->group(kRunGroup);
  auto* reuse = cmd->add_option("--reuse-from", a->reuse_from,
                  "DIR: before running, a point not started takes a finished run found in DIR (a "
                  "run, a sweep's directory, or a folder of them) trained with its whole recipe")
      ->group(kRunGroup);
  auto* point = cmd->add_option("--point", a->point, "run only point I (0-based; a Slurm array task)")
                    ->check(CLI::Range(0, 1'000'000))
                    ->group(kActionGroup);
  auto* report = cmd->add_flag("--report", a->report, "write the report of what has finished")->group(kActionGroup);
  auto* list = cmd->add_flag("--list", a->list, "list the points and their status")->group(kActionGroup);
  auto* slurm = cmd->add_flag("--slurm", a->slurm, "write a Slurm job-array script")->group(kActionGroup);
  // They go into #SBATCH lines: one word each, or the script would say something else.
  const CLI::Validator one_word(
      [](std::string& v) {
        return v.empty() || v.find_first_of(" \t\n\r'\"\\$`;") != std::string::npos
                   ? std::string("must be one word without quotes or shell characters")
                   : std::string();
      },
      "WORD");
  cmd->add_option("--partition", a->partition, "Slurm partition")->needs(slurm)->check(one_word)->group(kSlurmGroup);
  cmd->add_option("--time", a->time, "Slurm time limit per task")->needs(slurm)->check(one_word)->group(kSlurmGroup);
  cmd->add_option("--cpus-per-task", a->cpus_per_task, "Slurm CPUs per task (default: threads)")
      ->needs(slurm)
      ->check(CLI::Range(1, 256))
      ->group(kSlurmGroup);
  cmd->add_flag("--submit", a->submit, "submit the array and a dependent report job with sbatch")
      ->needs(slurm)
      ->group(kSlurmGroup);
  cmd->footer(recipe_keys_help());
  point->excludes(report)->excludes(list)->excludes(slurm);
  report->excludes(list)->excludes(slurm);
  list->excludes(slurm);
  reuse->excludes(point)->excludes(report)->excludes(list);
  cmd->callback([a] {
    if (a->file.empty() && a->overrides.grid.empty() && a->overrides.set.empty())
      fail("sweep", "give a sweep file, or --grid/--set options");
    if (a->slurm && a->cpus_per_task > 0 && a->overrides.threads == 0)
      a->overrides.threads = a->cpus_per_task;
    const SweepPlan plan = read_sweep_plan(a->file, a->overrides, a->out);
    int code = kExitOk;
    if (a->point >= 0) {
      code = run_point(*a, plan, a->point);
    } else if (a->list) {
      for (std::size_t i = 0; i < plan.points.size(); ++i) {
        const SweepPoint& p = plan.points[i];
        std::printf("%zu %s %s\n", i, p.name.c_str(),
                    run_state_text(check_planned_run(p.config), p.config.epochs,
                                   read_point_failure(plan, p.name)).c_str());
      }
    } else if (a->report) {
      if (!std::filesystem::is_directory(plan.dir))
        throw Error(plan.dir.string() + ": no such sweep directory (run the sweep first)");
      write_report(plan, a->skip_mismatched);
    } else if (a->slurm) {
      reuse_finished_runs(plan, a->reuse_from);
      code = write_slurm(*a, plan);
    } else {
      reuse_finished_runs(plan, a->reuse_from);
      code = run_locally(*a, plan);
      if (code != kExitStopped) write_report(plan, a->skip_mismatched);
    }
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace normlab::cli
