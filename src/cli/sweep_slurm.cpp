// A sweep as a Slurm job array: one array task per point (each `normlab sweep ... --point I`),
// and a report job that runs after them.
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>

#include "commands.hpp"
#include "normlab/io/atomic_file.hpp"
#include "normlab/data/cifar10.hpp"
#include "normlab/base/error.hpp"
#include "sweep_commands.hpp"

namespace normlab::cli {

namespace fs = std::filesystem;

namespace {

std::string shell_quote(const std::string& word) {
  std::string quoted = "'";
  for (char ch : word) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return quoted + "'";
}

std::string run_and_read(const std::string& command) {
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) fail("sbatch", "cannot run: " + errno_text());
  std::string out;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
  const int status = ::pclose(pipe);
  if (status != 0) fail("sbatch", "failed (exit " + std::to_string(WEXITSTATUS(status)) + "): " + out);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// What every task needs is checked here, before anything is written or queued: a task that
// cannot start fails in the queue, long after the one who submitted it has gone.

// The data every task reads, resolved as training resolves it (--data, $NORMLAB_DATA, else
// data/cifar-10-batches-bin), absolute so that a task in another working directory finds it.
fs::path checked_data_dir(const SweepPlan& plan) {
  const fs::path dir = fs::absolute(resolve_data_dir(plan.points.front().config.data_dir));
  check_cifar10_files(dir);
  return dir;
}

// The program the script execs: this one, still at its path (not deleted or made unrunnable
// since it started).
void check_task_program() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) fail("/proc/self/exe", "cannot read the path of this program: " + ec.message());
  if (::access(exe.c_str(), X_OK) != 0)
    fail(exe, "the Slurm tasks would run this program, but it cannot be executed there: " + errno_text());
}

// The sweep directory is a writable directory, or the nearest existing folder above it is
// (create_directories will make the rest); checked without creating anything.
void check_out_dir(const fs::path& out) {
  const fs::path dir = fs::absolute(out);
  fs::path existing = dir;
  std::error_code ec;
  while (!fs::exists(existing, ec) && existing != existing.parent_path()) existing = existing.parent_path();
  if (!fs::is_directory(existing, ec))
    fail(dir, "cannot be created: " + existing.string() + " is not a directory");
  if (::access(existing.c_str(), W_OK | X_OK) != 0)
    fail(dir, (existing == dir ? "cannot write in it: " : "cannot be created in " + existing.string() + ": ") +
                  errno_text());
}

}  // namespace

int write_slurm(const SweepArgs& a, const SweepPlan& plan) {
  check_sweep_points(plan, a.skip_mismatched);
  SweepArgs task_args = a;
  task_args.overrides.data_dir = checked_data_dir(plan).string();
  check_task_program();
  check_out_dir(plan.dir);
  const fs::path slurm_dir = fs::absolute(plan.dir) / "slurm";
  fs::create_directories(slurm_dir);
  const int threads = plan.points.front().config.threads;
  std::vector<std::string> words = plan_words(task_args, plan);
  std::string command;
  for (const auto& w : words) command += shell_quote(w) + " ";
  std::string options = fmt::format("#SBATCH --cpus-per-task={}\n", a.cpus_per_task > 0 ? a.cpus_per_task : threads);
  if (!a.partition.empty()) options += "#SBATCH --partition=" + a.partition + "\n";
  if (!a.time.empty()) options += "#SBATCH --time=" + a.time + "\n";
  const std::string script = fmt::format(
      "#!/bin/bash\n"
      "# normlab sweep {name}: one array task per point ({count} points). Written by normlab.\n"
      "#SBATCH --job-name=normlab-{name}\n"
      "#SBATCH --array=0-{last}\n"
      "#SBATCH --requeue\n"
      "#SBATCH --output={out}/%A_%a.out\n"
      "{options}"
      "# SIGTERM (preemption, scontrol requeue) makes normlab finish its step, checkpoint and exit\n"
      "# 130; the requeued task resumes from that checkpoint. A finished point is skipped.\n"
      "exec {command}--point \"$SLURM_ARRAY_TASK_ID\"\n",
      fmt::arg("name", plan.name), fmt::arg("count", plan.points.size()),
      fmt::arg("last", plan.points.size() - 1), fmt::arg("out", slurm_dir.string()),
      fmt::arg("options", options), fmt::arg("command", command));
  const fs::path file = slurm_dir / "sweep.sbatch";
  write_file_atomically(file, script);
  const std::string report_command = command + "--report";
  std::string report_options = "--output=" + shell_quote((slurm_dir / "report.out").string());
  if (!a.partition.empty()) report_options += " --partition=" + shell_quote(a.partition);
  if (!a.time.empty()) report_options += " --time=" + shell_quote(a.time);
  std::fprintf(stderr, "normlab: wrote %s (%zu array tasks)\n", file.c_str(), plan.points.size());
  if (!a.submit) {
    std::printf("sbatch %s\nsbatch --dependency=afterany:JOBID %s --wrap %s\n", file.c_str(),
                report_options.c_str(), shell_quote(report_command).c_str());
    return kExitOk;
  }
  const std::string job = run_and_read("sbatch --parsable " + shell_quote(file.string()));
  const std::string job_id = job.substr(0, job.find(';'));
  const std::string report_job = run_and_read("sbatch --parsable --job-name=" + shell_quote("normlab-" + plan.name) +
                                              "-report --dependency=afterany:" + job_id + " " +
                                              report_options + " --wrap " + shell_quote(report_command));
  std::printf("%s %s\n", job_id.c_str(), report_job.substr(0, report_job.find(';')).c_str());
  std::fprintf(stderr, "normlab: submitted array job %s and report job %s\n", job_id.c_str(),
               report_job.c_str());
  return kExitOk;
}

}  // namespace normlab::cli
