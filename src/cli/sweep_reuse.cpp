// --reuse-from: a point not started yet takes a finished run of another sweep or comparison
// trained with the same recipe (run_reuse.hpp's rule), copied as it is. Runs are the same bits
// wherever they were made, so studies that share settings train them once. A published study
// (docs/results/STUDY, scripts/publish-study) counts too: its runs are kept there as
// NAME-config.json, NAME-summary.json and NAME-metrics.csv, and a point takes those (and the
// metrics as JSON, which reports read) as its run directory: no checkpoint, weights or
// figures; enough to report, not to extend.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "normlab/base/error.hpp"
#include "normlab/report/metrics_files.hpp"
#include "sweep_commands.hpp"

namespace normlab::cli {

namespace fs = std::filesystem;

namespace {

bool is_run_directory(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "config.json", ec) && fs::is_regular_file(dir / "summary.json", ec);
}

// A finished-looking run: a run directory, or one run of a published study (its files'
// prefix in `published`).
struct Candidate {
  fs::path dir;
  std::string published;
};

constexpr const char* kPublishedParts[] = {"config.json", "summary.json", "metrics.csv"};

// The runs a published study holds: every NAME with NAME-config.json and NAME-summary.json.
void add_published_runs(const fs::path& dir, std::vector<Candidate>& found) {
  std::error_code ec;
  std::vector<std::string> names;
  const std::string suffix = "-config.json";
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (file.size() <= suffix.size() || file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string name = file.substr(0, file.size() - suffix.size());
    if (fs::is_regular_file(dir / (name + "-summary.json"), ec)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());  // the same choice on every machine
  for (const std::string& name : names) found.push_back({dir, name});
}

// The finished-looking runs at SOURCE, SOURCE/* and SOURCE/*/* (a run, a sweep's or
// comparison's directory, a published study, or a folder of them), outside the sweep's own
// directory.
std::vector<Candidate> candidate_runs(const std::vector<std::string>& sources, const fs::path& own) {
  std::vector<Candidate> found;
  std::error_code ec;
  const fs::path own_dir = fs::weakly_canonical(own, ec);
  auto visit = [&](const fs::path& dir, int depth, auto&& self) -> void {
    if (fs::weakly_canonical(dir, ec) == own_dir) return;
    if (is_run_directory(dir)) {
      found.push_back({dir, ""});
      return;
    }
    if (fs::is_regular_file(dir / "study.json", ec)) {
      add_published_runs(dir, found);
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

// The candidate as a run directory at `staging` (a copy), or an error code.
std::error_code stage(const Candidate& c, const fs::path& staging) {
  std::error_code ec;
  fs::remove_all(staging, ec);
  if (c.published.empty()) {
    fs::copy(c.dir, staging, fs::copy_options::recursive, ec);
    return ec;
  }
  fs::create_directory(staging, ec);
  for (const char* part : kPublishedParts) {
    const fs::path from = c.dir / (c.published + "-" + part);
    if (ec || !fs::exists(from)) continue;  // a study published before metrics were kept
    fs::copy_file(from, staging / part, ec);
  }
  // Reports read a run's metrics.json; the study keeps the same numbers as CSV.
  if (!ec && fs::exists(staging / "metrics.csv")) {
    try {
      write_metrics_json(staging / "metrics.json", read_metrics_csv(staging / "metrics.csv"));
    } catch (const Error&) {
      ec = std::make_error_code(std::errc::invalid_argument);
    }
  }
  return ec;
}

}  // namespace

int reuse_finished_runs(const SweepPlan& plan, const std::vector<std::string>& sources) {
  if (sources.empty()) return 0;
  const std::vector<Candidate> candidates = candidate_runs(sources, plan.dir);
  int reused = 0;
  for (const SweepPoint& p : plan.points) {
    if (check_planned_run(p.config).action != RunAction::start) continue;
    // Each candidate is staged beside the point, checked there and renamed into place: a point
    // is never half there, and a sweep that started it meanwhile keeps its own.
    const fs::path dest = p.config.out_dir;
    const fs::path staging = dest.parent_path() / fmt::format(".reuse-{}-{}", p.name, ::getpid());
    std::error_code ec;
    fs::create_directories(dest.parent_path(), ec);
    for (const Candidate& candidate : candidates) {
      const std::string where =
          candidate.published.empty() ? candidate.dir.string() : (candidate.dir / candidate.published).string();
      // A run directory is judged where it is; a published run once staged as one.
      if (!candidate.published.empty() && stage(candidate, staging)) continue;
      TrainConfig there = p.config;
      there.out_dir = candidate.published.empty() ? candidate.dir.string() : staging.string();
      RunAction action = RunAction::mismatch;
      try {
        action = check_planned_run(there).action;
      } catch (const Error&) {  // a damaged run elsewhere is not this sweep's to judge
      }
      if (action != RunAction::finished) {
        fs::remove_all(staging, ec);
        continue;
      }
      if (candidate.published.empty()) ec = stage(candidate, staging);
      if (!ec) fs::rename(staging, dest, ec);
      if (ec) {
        const std::string why = ec.message();
        fs::remove_all(staging, ec);
        std::fprintf(stderr, "normlab: %s: not reused from %s (%s); it will be trained\n", p.name.c_str(),
                     where.c_str(), why.c_str());
        break;
      }
      forget_point_failure(plan, p.name);
      std::fprintf(stderr, "normlab: %s: reused the finished run %s (the same recipe)\n", p.name.c_str(),
                   where.c_str());
      ++reused;
      break;
    }
  }
  return reused;
}

}  // namespace normlab::cli
