// `normlab sweep`: a grid of training runs, run here (several at once, each a child process
// running one point), run as one point (what a Slurm array task does), written as a Slurm job
// array, or reported.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "commands.hpp"
#include "normlab/atomic_file.hpp"
#include "normlab/error.hpp"
#include "normlab/models.hpp"
#include "normlab/report.hpp"
#include "normlab/run_directory.hpp"
#include "normlab/run_lock.hpp"
#include "sweep_plan.hpp"

namespace normlab::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kExitBusy = 75;  // the point is being trained by another process (EX_TEMPFAIL)

struct SweepArgs {
  std::string file;
  SweepOverrides overrides;
  std::string out;
  int jobs = 0;
  int point = -1;
  bool report = false, list = false, slurm = false, submit = false;
  std::string partition, time;
  int cpus_per_task = 0;
};

std::string shell_quote(const std::string& word) {
  std::string quoted = "'";
  for (char ch : word) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return quoted + "'";
}

std::string absolute(const std::string& path) { return path.empty() ? path : fs::absolute(path).string(); }

// The words that make another `normlab sweep` see the same plan (the child processes, Slurm).
std::vector<std::string> plan_words(const SweepArgs& a, const SweepPlan& plan) {
  std::vector<std::string> words = {fs::read_symlink("/proc/self/exe").string(), "sweep"};
  if (!a.file.empty()) words.push_back(absolute(a.file));
  for (const auto& s : a.overrides.set) words.insert(words.end(), {"--set", s});
  for (const auto& g : a.overrides.grid) words.insert(words.end(), {"--grid", g});
  if (!a.overrides.data_dir.empty()) words.insert(words.end(), {"--data", absolute(a.overrides.data_dir)});
  words.insert(words.end(), {"--out", fs::absolute(plan.dir).string()});
  words.insert(words.end(), {"--threads", std::to_string(plan.points.front().config.threads)});
  return words;
}

// ---- One point: what a child process or a Slurm array task runs ------------------------------

// Finished runs are done, unless the plan now asks for more epochs than they ran (a study run
// short first and extended later: with the constant schedule the result equals a straight run).
RunStatus effective_status(const SweepPoint& point) {
  const RunStatus status = read_run_status(point.config.out_dir);
  if (status == RunStatus::finished &&
      read_run_config(point.config.out_dir).epochs < point.config.epochs)
    return RunStatus::unfinished;
  return status;
}

// A finished run trained for another number of epochs than the sweep asks (a 5-epoch study
// read with the 20-epoch file, or the other way round): "" when they agree.
std::string epochs_differ(const SweepPoint& point, RunStatus status) {
  if (status != RunStatus::finished) return "";
  const int trained = read_run_config(point.config.out_dir).epochs;
  if (trained == point.config.epochs) return "";
  return fmt::format("{} epochs, the sweep asks {}", trained, point.config.epochs);
}

int run_point(const SweepPlan& plan, int index) {
  if (index < 0 || index >= int(plan.points.size()))
    fail("--point " + std::to_string(index),
         "out of range: the sweep has points 0.." + std::to_string(plan.points.size() - 1));
  const SweepPoint& point = plan.points[std::size_t(index)];
  const fs::path dir = point.config.out_dir;
  const RunStatus status = effective_status(point);
  if (status == RunStatus::finished || status == RunStatus::diverged) {
    std::fprintf(stderr, "normlab: %s is already %s\n", point.name.c_str(),
                 status == RunStatus::finished ? "finished" : "diverged");
    return status == RunStatus::finished ? kExitOk : kExitDiverged;
  }
  if (const long holder = run_lock_holder(dir); holder != 0) {
    std::fprintf(stderr, "normlab: %s is in use by process %ld; left to it\n", point.name.c_str(), holder);
    return kExitBusy;
  }
  fs::create_directories(plan.dir);
  const Cifar10 data = Cifar10::load(resolve_data_dir(point.config.data_dir));
  try {
    return train_run(point.config, status == RunStatus::unfinished, data);
  } catch (const Error&) {
    // Another sweep started this point between our look and our start: it is theirs.
    if (const long holder = run_lock_holder(dir); holder != 0 && holder != ::getpid()) {
      std::fprintf(stderr, "normlab: %s was taken by process %ld; left to it\n", point.name.c_str(), holder);
      return kExitBusy;
    }
    throw;
  }
}

// ---- Local: several points at once, each a child process --------------------------------------

std::atomic<bool> g_sweep_stop{false};
extern "C" void on_sweep_signal(int) { g_sweep_stop = true; }

pid_t start_child(const std::vector<std::string>& words, const fs::path& log) {
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) fail("sweep", "cannot start a process: " + errno_text());
  if (pid > 0) return pid;
  // In the child: if the sweep dies (even by kill -9), SIGTERM makes this point checkpoint and stop.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(kExitStopped);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
  }
  std::vector<char*> argv;
  for (const auto& w : words) argv.push_back(const_cast<char*>(w.c_str()));
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

int run_locally(const SweepArgs& a, const SweepPlan& plan) {
  const int threads = plan.points.front().config.threads;
  const int cores = int(std::thread::hardware_concurrency());
  const int jobs = a.jobs > 0 ? a.jobs : std::max(1, cores / threads);
  if (jobs * threads > cores)
    std::fprintf(stderr, "normlab: note: %d jobs x %d threads is more than the %d cores\n", jobs,
                 threads, cores);
  fs::create_directories(plan.dir / "logs");
  std::vector<int> queue;
  for (int i = 0; i < int(plan.points.size()); ++i) {
    const SweepPoint& p = plan.points[std::size_t(i)];
    const RunStatus status = effective_status(p);
    if (status == RunStatus::finished || status == RunStatus::diverged) continue;
    queue.push_back(i);
  }
  std::fprintf(stderr, "normlab: sweep %s: %zu points, %zu to run, %d at a time (%d threads each), in %s\n",
               plan.name.c_str(), plan.points.size(), queue.size(), jobs, threads, plan.dir.c_str());
  // Without SA_RESTART, so that the signal interrupts waitpid below and reaches the running
  // points now (std::signal restarts it: the sweep waited for a point to finish first).
  struct sigaction stop {};
  stop.sa_handler = on_sweep_signal;
  sigemptyset(&stop.sa_mask);
  stop.sa_flags = 0;
  ::sigaction(SIGINT, &stop, nullptr);
  ::sigaction(SIGTERM, &stop, nullptr);
  std::map<pid_t, int> running;
  std::size_t next = 0, done = 0;
  int worst = kExitOk;
  bool forwarded = false;
  while ((next < queue.size() && !g_sweep_stop) || !running.empty()) {
    while (!g_sweep_stop && next < queue.size() && int(running.size()) < jobs) {
      const int i = queue[next++];
      std::vector<std::string> words = plan_words(a, plan);
      words.insert(words.end(), {"--point", std::to_string(i)});
      const auto& name = plan.points[std::size_t(i)].name;
      running[start_child(words, plan.dir / "logs" / (name + ".log"))] = i;
    }
    if (g_sweep_stop && !forwarded) {
      for (const auto& [pid, i] : running) ::kill(pid, SIGTERM);
      forwarded = true;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const auto& name = plan.points[std::size_t(it->second)].name;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    running.erase(it);
    ++done;
    const char* what = code == kExitOk         ? "finished"
                       : code == kExitDiverged ? "diverged"
                       : code == kExitStopped  ? "stopped (resumable)"
                       : code == kExitBusy     ? "in use by another process, left to it"
                                               : "failed";
    std::fprintf(stderr, "normlab: [%zu/%zu] %s: %s%s\n", done, queue.size(), name.c_str(), what,
                 code == kExitOk || code == kExitBusy ? ""
                                                       : fmt::format(" (exit {}, log {})", code,
                                                                     (plan.dir / "logs" / (name + ".log")).string()).c_str());
    if (code == kExitStopped || g_sweep_stop) worst = kExitStopped;
    else if (code != kExitOk && code != kExitDiverged && code != kExitBusy) worst = std::max(worst, kExitBadInput);
    else if (code == kExitDiverged && worst == kExitOk) worst = kExitDiverged;
  }
  return g_sweep_stop ? kExitStopped : worst;
}

// ---- The report --------------------------------------------------------------------------------

std::vector<double> last_epochs_accuracy(const fs::path& dir) {
  std::vector<double> values;
  for (const auto& m : read_metrics_json(dir / "metrics.json")) values.push_back(m.test_accuracy);
  return values;
}

// The options the points differ in besides those the report has columns for (and the seed,
// which it averages over, and where each run lives): "conv=winograd". They split cells, so
// runs with different settings are never averaged together.
std::vector<std::string> other_settings(const SweepPlan& plan) {
  static const std::set<std::string> shown = {"/net", "/norm", "/batch", "/norm_batch",
                                              "/learning_rate", "/seed", "/threads",
                                              "/out_dir", "/data_dir"};
  std::vector<json> flat;
  for (const SweepPoint& p : plan.points) flat.push_back(json(p.config).flatten());
  std::set<std::string> varying;
  for (const json& f : flat)
    for (const auto& [key, value] : f.items())
      if (!shown.count(key) && value != flat.front().value(key, json())) varying.insert(key);
  std::vector<std::string> others;
  for (const json& f : flat) {
    std::string text;
    for (const std::string& key : varying) {
      const json& v = f.at(key);
      text += fmt::format("{}{}={}", text.empty() ? "" : " ", key.substr(1),
                          v.is_string() ? v.get<std::string>() : v.dump());
    }
    others.push_back(text);
  }
  return others;
}

void write_report(const SweepPlan& plan) {
  std::vector<SweepCell> cells;
  std::map<std::string, std::size_t> cell_of;
  const std::vector<std::string> others = other_settings(plan);
  for (std::size_t i = 0; i < plan.points.size(); ++i) {
    const SweepPoint& p = plan.points[i];
    const std::string& other = others[i];
    const TrainConfig& c = p.config;
    const fs::path dir = c.out_dir;
    const RunStatus status = read_run_status(dir);
    json summary;
    if (status == RunStatus::finished || status == RunStatus::diverged) {
      std::ifstream in(dir / "summary.json");
      summary = json::parse(in, nullptr, false);
    }
    for (int k : p.norm_batches) {
      const std::string key =
          fmt::format("{}|{}|{}|{}|{}|{}", c.net, c.norm, c.batch, k, c.learning_rate, other);
      if (!cell_of.count(key)) {
        cell_of[key] = cells.size();
        cells.push_back({c.net, norm_display_name(c.norm), other, c.batch, k, c.learning_rate,
                         {}, {}, {}, {}});
      }
      SweepCell& cell = cells[cell_of[key]];
      if (const std::string differ = epochs_differ(p, status); !differ.empty()) {
        cell.not_averaged.push_back(p.name + ": " + differ);
      } else if (status == RunStatus::finished) {
        cell.final_accuracy.push_back(summary.value("final_test_accuracy", 0.0));
        cell.seconds_per_epoch.push_back(summary.value("seconds_per_epoch", 0.0));
        const auto acc = last_epochs_accuracy(dir);
        const std::size_t n = std::min<std::size_t>(5, acc.size());
        double sum = 0;
        for (std::size_t e = acc.size() - n; e < acc.size(); ++e) sum += acc[e];
        cell.last5_accuracy.push_back(n ? sum / double(n) : 0.0);
      } else if (status == RunStatus::diverged) {
        cell.not_averaged.push_back(fmt::format(
            "{}: diverged at epoch {}, step {} ({})", p.name,
            summary.contains("diverged_at") ? summary["diverged_at"].value("epoch", 0) : 0,
            summary.contains("diverged_at") ? summary["diverged_at"].value("step", 0) : 0,
            summary.is_object() ? summary.value("what", "?") : "?"));
      } else {
        cell.not_averaged.push_back(p.name + (status == RunStatus::none ? ": not started" : ": unfinished"));
      }
    }
  }

  std::string md = fmt::format("# Sweep {}\n\n{} runs ({} settings x seeds); final test accuracy in %, "
                               "mean ± std over the finished seeds.\n\n",
                               plan.name, plan.points.size(), cells.size());
  md += sweep_table_markdown(cells);

  // Accuracy against the normalisation batch: one figure per (net, batch, lr), one line per norm.
  std::map<std::string, std::map<std::string, ErrorBarSeries>> by_norm_batch;
  std::map<std::string, std::map<std::string, ErrorBarSeries>> by_batch;
  for (const SweepCell& cell : cells) {
    if (cell.final_accuracy.empty()) continue;
    const MeanStd m = mean_std(cell.final_accuracy);
    const std::string label = cell.other.empty() ? cell.norm : cell.norm + " " + cell.other;
    auto& s = by_norm_batch[fmt::format("{} b{} lr{}", cell.net, cell.batch, float(cell.learning_rate))][label];
    s.label = label;
    s.x.push_back(std::log2(double(cell.norm_batch)));
    s.mean.push_back(m.mean);
    s.std.push_back(m.std);
    if (cell.norm_batch == cell.batch) {
      auto& b = by_batch[cell.net][label];
      b.label = label;
      b.x.push_back(std::log2(double(cell.batch)));
      b.mean.push_back(m.mean);
      b.std.push_back(m.std);
    }
  }
  auto figures = [&](const auto& groups, const std::string& stem, const std::string& x_label) {
    for (const auto& [title, series_by_norm] : groups) {
      std::vector<ErrorBarSeries> series;
      std::size_t points = 0;
      for (const auto& [norm, s] : series_by_norm) {
        series.push_back(s);
        points = std::max(points, s.x.size());
      }
      if (points < 2) continue;  // one x value is no curve
      const std::string file = groups.size() == 1 ? stem + ".png"
                                                  : stem + "-" + title + ".png";
      std::string safe = file;
      for (char& ch : safe)
        if (ch == ' ' || ch == '/') ch = '_';
      plot_error_bars(plan.dir / safe, series, fmt::format("{}: final test accuracy ({})", plan.name, title),
                      x_label, "test accuracy (%), mean ± std over seeds", true);
      md += fmt::format("\n![{}]({})\n", title, safe);
    }
  };
  figures(by_norm_batch, "accuracy-vs-norm-batch", "images per normalisation batch");
  figures(by_batch, "accuracy-vs-batch", "SGD batch size (norm batch = batch)");
  write_file_atomically(plan.dir / "report.md", md);
  std::printf("%s", md.c_str());
  std::fprintf(stderr, "normlab: report written to %s\n", (plan.dir / "report.md").c_str());
}

// ---- Slurm ------------------------------------------------------------------------------------

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

int write_slurm(const SweepArgs& a, const SweepPlan& plan) {
  const fs::path slurm_dir = fs::absolute(plan.dir) / "slurm";
  fs::create_directories(slurm_dir);
  const int threads = plan.points.front().config.threads;
  std::vector<std::string> words = plan_words(a, plan);
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

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "sweep", "a grid of runs (nets x norms x batch sizes x seeds ...), here or on Slurm");
  auto a = std::make_shared<SweepArgs>();
  cmd->add_option("file", a->file, "sweep file (TOML: [train], [grid], [lr-scaling])");
  cmd->add_option("--set", a->overrides.set, "KEY=VALUE: a train option for every point")->take_all();
  cmd->add_option("--grid", a->overrides.grid, "KEY=V1,V2,...: a grid axis")->take_all();
  cmd->add_option("--out", a->out, "directory of the runs and the report (default runs/sweeps/<name>)");
  cmd->add_option("--data", a->overrides.data_dir, "CIFAR-10 binary directory");
  cmd->add_option("--threads", a->overrides.threads,
                  "threads per run (default: the file's, else $SLURM_CPUS_PER_TASK, else 2)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--jobs", a->jobs, "runs at once (default: cores / threads)")->check(CLI::Range(1, 256));
  auto* point = cmd->add_option("--point", a->point, "run only point I (0-based; a Slurm array task)")
                    ->check(CLI::Range(0, 1'000'000));
  auto* report = cmd->add_flag("--report", a->report, "write the report of what has finished");
  auto* list = cmd->add_flag("--list", a->list, "list the points and their status");
  auto* slurm = cmd->add_flag("--slurm", a->slurm, "write a Slurm job-array script");
  // They go into #SBATCH lines: one word each, or the script would say something else.
  const CLI::Validator one_word(
      [](std::string& v) {
        return v.empty() || v.find_first_of(" \t\n\r'\"\\$`;") != std::string::npos
                   ? std::string("must be one word without quotes or shell characters")
                   : std::string();
      },
      "WORD");
  cmd->add_option("--partition", a->partition, "Slurm partition")->needs(slurm)->check(one_word);
  cmd->add_option("--time", a->time, "Slurm time limit per task")->needs(slurm)->check(one_word);
  cmd->add_option("--cpus-per-task", a->cpus_per_task, "Slurm CPUs per task (default: threads)")
      ->needs(slurm)->check(CLI::Range(1, 256));
  cmd->add_flag("--submit", a->submit, "submit the array and a dependent report job with sbatch")->needs(slurm);
  point->excludes(report)->excludes(list)->excludes(slurm);
  report->excludes(list)->excludes(slurm);
  list->excludes(slurm);
  cmd->callback([a] {
    if (a->file.empty() && a->overrides.grid.empty() && a->overrides.set.empty())
      fail("sweep", "give a sweep file, or --grid/--set options");
    if (a->slurm && a->cpus_per_task > 0 && a->overrides.threads == 0)
      a->overrides.threads = a->cpus_per_task;
    const SweepPlan plan = read_sweep_plan(a->file, a->overrides, a->out);
    int code = kExitOk;
    if (a->point >= 0) {
      code = run_point(plan, a->point);
    } else if (a->list) {
      for (std::size_t i = 0; i < plan.points.size(); ++i) {
        const RunStatus s = read_run_status(plan.points[i].config.out_dir);
        static const char* names[] = {"not started", "unfinished", "finished", "diverged"};
        const std::string differ = epochs_differ(plan.points[i], s);
        std::printf("%zu %s %s%s\n", i, plan.points[i].name.c_str(), names[int(s)],
                    differ.empty() ? "" : (" (" + differ + ")").c_str());
      }
    } else if (a->report) {
      write_report(plan);
    } else if (a->slurm) {
      code = write_slurm(*a, plan);
    } else {
      code = run_locally(*a, plan);
      if (code != kExitStopped) write_report(plan);
    }
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace normlab::cli
