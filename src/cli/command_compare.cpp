#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "normlab/io/atomic_file.hpp"
#include "normlab/base/error.hpp"
#include "normlab/train/models.hpp"
#include "normlab/report/comparison_table.hpp"
#include "normlab/report/diagnostics_files.hpp"
#include "normlab/report/confusion.hpp"
#include "normlab/report/curves.hpp"
#include "normlab/report/gallery.hpp"
#include "normlab/report/metrics_files.hpp"
#include "normlab/report/sweep_report.hpp"
#include "normlab/train/run_directory.hpp"
#include "normlab/train/run_lock.hpp"
#include "run_reuse.hpp"

namespace normlab::cli {

namespace fs = std::filesystem;

namespace {

// Runs (or continues, or reuses when finished) one run of the comparison; its status after.
// The rule is the sweep's (run_reuse.hpp): a run of other settings is refused, never reused.
RunStatus ensure_run(const TrainConfig& config, const Cifar10& data) {
  const fs::path dir = config.out_dir;
  if (const long holder = run_lock_holder(dir); holder != 0)
    fail(dir, "in use by process " + std::to_string(holder) + " (another normlab is training there)");
  const RunCheck check = check_planned_run(config);
  switch (check.action) {
    case RunAction::mismatch:
      fail(dir, "holds a run trained with other settings than this comparison: " + check.mismatch +
                    "; choose another --out for this comparison");
    case RunAction::finished:
    case RunAction::diverged:
      std::fprintf(stderr, "normlab: %s is %s, reusing it\n", dir.c_str(),
                   run_state_text(check, config.epochs).c_str());
      return check.action == RunAction::finished ? RunStatus::finished : RunStatus::diverged;
    case RunAction::start:
    case RunAction::resume: break;
  }
  const int code = train_run(config, check.action == RunAction::resume, data);
  if (code == kExitDiverged) return RunStatus::diverged;
  if (code != kExitOk) throw CLI::RuntimeError(code);
  return RunStatus::finished;
}

std::string diverged_line(const TrainConfig& config) {
  std::ifstream in(fs::path(config.out_dir) / "summary.json");
  const auto summary = nlohmann::json::parse(in, nullptr, false);
  std::string where;
  if (summary.is_object() && summary.contains("diverged_at"))
    where = fmt::format(" at epoch {}, step {}: {}", summary["diverged_at"].value("epoch", 0),
                        summary["diverged_at"].value("step", 0), summary.value("what", "?"));
  return fmt::format("seed {}{} ({})", config.seed, where, config.out_dir);
}

}  // namespace

void add_compare_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compare", "train BatchNorm, GroupNorm and LayerNorm with one recipe and compare them");
  auto options = std::make_shared<RecipeOptions>();
  options->add_to(*cmd, {{"--norm", "compare trains each norm of --norms; choose them there"}});
  auto seeds = std::make_shared<int>(1);
  auto out = std::make_shared<std::string>();
  auto norms = std::make_shared<std::vector<std::string>>(seed_study_norm_names());
  cmd->add_option("--norms", *norms, "which norms to compare, comma-separated (default: " + [] {
    std::string names;
    for (const auto& n : seed_study_norm_names()) names += (names.empty() ? "" : ",") + n;
    return names;
  }() + ")")
      ->check(CLI::IsMember(norm_names()))
      ->delimiter(',')
      ->group(kNetworkGroup);
  cmd->add_option("--seeds", *seeds, "runs per norm, seeds S, S+1, ... (mean +- std reported; default: 1)")
      ->check(CLI::Range(1, 100))
      ->group(kRunGroup);
  cmd->add_option("--out", *out, "directory for the runs and the comparison (default runs/compare-<net>)")
      ->group(kRunGroup);
  cmd->callback([cmd, options, seeds, out, norms] {
    const TrainConfig base = options->apply(*cmd);
    check_this_cpu_naming_options(base);
    const fs::path dir = !out->empty() ? fs::path(*out) : fs::path("runs/compare-" + base.net);
    const Cifar10 data = Cifar10::load(resolve_data_dir(base.data_dir));
    std::vector<RunGroup> groups;
    std::vector<CurveSeries> curves;
    std::vector<SettingDiagnostics> diagnostics;  // the norms overlaid layer by layer
    for (const auto& norm : *norms) {
      RunGroup group{norm_display_name(norm), describe_network(base.net, norm).parameters, {}, {}};
      for (int k = 0; k < *seeds; ++k) {
        TrainConfig config = base;
        config.norm = norm;
        config.seed = base.seed + std::uint64_t(k);
        config.out_dir = (dir / fmt::format("{}-seed{}", norm, config.seed)).string();
        if (ensure_run(config, data) == RunStatus::diverged) {
          group.diverged.push_back(diverged_line(config));
          continue;
        }
        group.runs.push_back(read_metrics_json(fs::path(config.out_dir) / "metrics.json"));
        const fs::path samples = fs::path(config.out_dir) / "diagnostics.csv";
        if (fs::exists(samples)) {  // runs made before the diagnostics have none
          if (diagnostics.empty() || diagnostics.back().label != group.norm)
            diagnostics.push_back({group.norm, {}});
          diagnostics.back().runs.push_back(read_diagnostics_csv(samples));
        }
      }
      // The curve shows the mean test accuracy over the seeds, epoch by epoch.
      CurveSeries series{group.norm, {}};
      for (std::size_t e = 0; !group.runs.empty() && e < group.runs.front().size(); ++e) {
        double sum = 0;
        for (const auto& run : group.runs) sum += run[e].test_accuracy;
        series.values.push_back(sum / double(group.runs.size()));
      }
      curves.push_back(series);
      groups.push_back(std::move(group));
    }
    const std::string title = fmt::format("{}: test accuracy per epoch{}", network_display_name(base.net),
                                          *seeds > 1 ? fmt::format(" (mean of {} seeds)", *seeds) : "");
    plot_comparison(dir / "comparison.png", curves, title, "test accuracy (%)");
    if (diagnostics.size() >= 2)
      plot_diagnostics_by_setting(dir / "comparison-diagnostics.png", diagnostics,
                                  fmt::format("{}: diagnostics by norm{}", network_display_name(base.net),
                                              *seeds > 1 ? fmt::format(" (mean of {} seeds)", *seeds) : ""));
    const std::string table = comparison_table_markdown(groups);
    write_file_atomically(dir / "comparison.md", table);
    std::printf("%s", table.c_str());
    std::fprintf(stderr, "normlab: comparison written to %s\n", (dir / "comparison.md").c_str());
    for (const RunGroup& group : groups)
      if (!group.diverged.empty()) throw CLI::RuntimeError(kExitDiverged);
  });
}

}  // namespace normlab::cli
