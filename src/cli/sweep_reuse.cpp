// --reuse-from: a point not started yet takes a finished run of another sweep or comparison
// trained with the same recipe (run_reuse.hpp's rule), copied as it is. Runs are the same bits
// wherever they were made, so studies that share settings train them once.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "normlab/base/error.hpp"
#include "sweep_commands.hpp"

namespace normlab::cli {

namespace fs = std::filesystem;

namespace {

bool is_run_directory(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "config.json", ec) && fs::is_regular_file(dir / "summary.json", ec);
}

// The finished-looking run directories at SOURCE, SOURCE/* and SOURCE/*/* (a run, a sweep's or
// comparison's directory, or a folder of sweeps), outside the sweep's own directory.
std::vector<fs::path> candidate_runs(const std::vector<std::string>& sources, const fs::path& own) {
  std::vector<fs::path> found;
  std::error_code ec;
  const fs::path own_dir = fs::weakly_canonical(own, ec);
  auto visit = [&](const fs::path& dir, int depth, auto&& self) -> void {
    if (fs::weakly_canonical(dir, ec) == own_dir) return;
    if (is_run_directory(dir)) {
      found.push_back(dir);
      return;
    }
    if (depth == 0) return;
    std::vector<fs::path> children;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.is_directory(ec)) children.push_back(entry.path());
    std::sort(children.begin(), children.end());  // the same choice on every machine
    for (const fs::path& child : children) self(child, depth - 1, self);
  };
  for (const std::string& source : sources) {
    if (!fs::is_directory(source, ec)) fail(source, "--reuse-from: no such directory");
    visit(source, 2, visit);
  }
  return found;
}

}  // namespace

int reuse_finished_runs(const SweepPlan& plan, const std::vector<std::string>& sources) {
  if (sources.empty()) return 0;
  const std::vector<fs::path> candidates = candidate_runs(sources, plan.dir);
  int reused = 0;
  for (const SweepPoint& p : plan.points) {
    if (check_planned_run(p.config).action != RunAction::start) continue;
    for (const fs::path& candidate : candidates) {
      TrainConfig there = p.config;
      there.out_dir = candidate.string();
      RunAction action = RunAction::mismatch;
      try {
        action = check_planned_run(there).action;
      } catch (const Error&) {  // a damaged run elsewhere is not this sweep's to judge
        continue;
      }
      if (action != RunAction::finished) continue;
      // Copied beside the point and renamed into place: a point is never half there, and a
      // sweep that started it meanwhile keeps its own.
      const fs::path dest = p.config.out_dir;
      const fs::path staging = dest.parent_path() / fmt::format(".reuse-{}-{}", p.name, ::getpid());
      std::error_code ec;
      fs::create_directories(dest.parent_path(), ec);
      fs::remove_all(staging, ec);
      fs::copy(candidate, staging, fs::copy_options::recursive, ec);
      if (!ec) fs::rename(staging, dest, ec);
      if (ec) {
        fs::remove_all(staging, ec);
        std::fprintf(stderr, "normlab: %s: not reused from %s (%s); it will be trained\n", p.name.c_str(),
                     candidate.c_str(), ec.message().c_str());
        break;
      }
      forget_point_failure(plan, p.name);
      std::fprintf(stderr, "normlab: %s: reused the finished run %s (the same recipe)\n", p.name.c_str(),
                   candidate.c_str());
      ++reused;
      break;
    }
  }
  return reused;
}

}  // namespace normlab::cli
