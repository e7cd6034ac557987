// A sweep on this machine: several points at once, each a child process running one point.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <thread>

#include "commands.hpp"
#include "normlab/base/error.hpp"
#include "sweep_commands.hpp"

namespace normlab::cli {

namespace fs = std::filesystem;

namespace {

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
  // The sweep's own binary, even if its file was rebuilt or replaced since the sweep started:
  // every point of one sweep runs the same code.
  ::execv("/proc/self/exe", argv.data());
  std::fprintf(stderr, "normlab: error: %s: cannot run it: %s\n", words.front().c_str(), std::strerror(errno));
  ::_exit(127);
}

// Finished, diverged, in use by another process and stopped are ends a point can have; any
// other exit is a failure the listing and the report name.
bool is_failure(int code) {
  return code != kExitOk && code != kExitDiverged && code != kExitBusy && code != kExitStopped;
}

// The last error line of a log ("normlab: error: ...", or "normlab sweep: error: ..." for a
// mistake on the command line), without that prefix ("" when there is none).
std::string last_error_line(const fs::path& log) {
  static const std::string marker = ": error: ";
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line)) {
    const std::size_t at = line.find(marker);
    const std::string who = at == std::string::npos ? "" : line.substr(0, at);
    if (who == "normlab" || (who.rfind("normlab ", 0) == 0 && who.find(' ', 8) == std::string::npos))
      last = line.substr(at + marker.size());
  }
  return last;
}

// The child records its own errors; this adds where its log is, and covers a child that died
// without a word (a signal, an exec failure).
void record_child_failure(const SweepPlan& plan, const std::string& name, int code, int status) {
  const fs::path log = fs::absolute(plan.dir / "logs" / (name + ".log"));
  PointFailure failure{code, "", log.string()};
  if (WIFSIGNALED(status))
    failure.error = fmt::format("killed by signal {} ({})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  else if (const auto own = read_point_failure(plan, name))
    failure.error = own->error;
  else
    failure.error = last_error_line(log);
  record_point_failure(plan, name, failure);
}

}  // namespace

int run_locally(const SweepArgs& a, const SweepPlan& plan) {
  const int threads = plan.points.front().config.threads;
  const int cores = int(std::thread::hardware_concurrency());
  const int jobs = a.jobs > 0 ? a.jobs : std::max(1, cores / threads);
  if (jobs * threads > cores)
    std::fprintf(stderr, "normlab: note: %d jobs x %d thread%s is more than the %d cores\n", jobs,
                 threads, threads == 1 ? "" : "s", cores);
  // Refused here, before anything is written or run: convolutions this CPU cannot run, and a
  // point that holds a run of other settings.
  for (const SweepPoint& p : plan.points) check_this_cpu_naming_options(p.config);
  const std::vector<RunCheck> checks = check_sweep_points(plan, a.skip_mismatched);
  fs::create_directories(plan.dir / "logs");
  std::vector<int> queue;
  for (int i = 0; i < int(plan.points.size()); ++i) {
    const RunAction action = checks[std::size_t(i)].action;
    if (action == RunAction::start || action == RunAction::resume) queue.push_back(i);
  }
  std::fprintf(stderr, "normlab: sweep %s: %zu points, %zu to run, %d at a time (%d thread%s each), in %s\n",
               plan.name.c_str(), plan.points.size(), queue.size(), jobs, threads,
               threads == 1 ? "" : "s", plan.dir.c_str());
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
      forget_point_failure(plan, name);  // this attempt's end decides
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
    if (is_failure(code)) record_child_failure(plan, name, code, status);
    if (code == kExitStopped || g_sweep_stop) worst = kExitStopped;
    else if (code != kExitOk && code != kExitDiverged && code != kExitBusy) worst = std::max(worst, kExitBadInput);
    else if (code == kExitDiverged && worst == kExitOk) worst = kExitDiverged;
  }
  return g_sweep_stop ? kExitStopped : worst;
}

}  // namespace normlab::cli
