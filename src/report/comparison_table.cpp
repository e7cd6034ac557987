#include "normlab/report/comparison_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "normlab/base/error.hpp"

namespace normlab {
namespace {

// One number per run, e.g. the run's best test accuracy.
using RunStatistic = std::function<double(const std::vector<EpochMetrics>&)>;

double best_value(const std::vector<EpochMetrics>& run, double EpochMetrics::*field) {
  double best = run.front().*field;
  for (const EpochMetrics& m : run) best = std::max(best, m.*field);
  return best;
}

double seconds_per_epoch(const std::vector<EpochMetrics>& run) {
  double total = 0;
  for (const EpochMetrics& m : run) total += m.seconds;
  return total / static_cast<double>(run.size());
}

// "mean ± std" over the runs that have epochs, the plain value for one run, "n/a" for none.
std::string cell(const RunGroup& group, const RunStatistic& statistic, int decimals) {
  std::vector<double> values;
  for (const auto& run : group.runs) {
    if (!run.empty()) values.push_back(statistic(run));
  }
  if (values.empty()) return "n/a";
  MeanStd summary = mean_std(values);
  if (values.size() == 1) return fmt::format("{:.{}f}", summary.mean, decimals);
  return fmt::format("{:.{}f} ± {:.{}f}", summary.mean, decimals, summary.std, decimals);
}

// A '|' in a name would split the cell.
std::string escape_pipes(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    if (c == '|') escaped += '\\';
    escaped += c;
  }
  return escaped;
}

}  // namespace

MeanStd mean_std(std::span<const double> values) {
  if (values.empty()) throw Error("mean_std: no values");
  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  if (values.size() == 1) return {mean, 0};
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return {mean, std::sqrt(squares / static_cast<double>(values.size() - 1))};
}

std::string comparison_table_markdown(std::span<const RunGroup> groups) {
  const RunStatistic final_train = [](const auto& run) { return run.back().train_accuracy; };
  const RunStatistic best_train = [](const auto& run) {
    return best_value(run, &EpochMetrics::train_accuracy);
  };
  const RunStatistic final_test = [](const auto& run) { return run.back().test_accuracy; };
  const RunStatistic best_test = [](const auto& run) {
    return best_value(run, &EpochMetrics::test_accuracy);
  };

  std::string table =
      "| norm | parameters | final train acc | best train acc | final test acc | best test acc | "
      "s/epoch |\n"
      "|---|---:|---:|---:|---:|---:|---:|\n";
  for (const RunGroup& group : groups) {
    table += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", escape_pipes(group.norm),
                         group.parameters, cell(group, final_train, 2), cell(group, best_train, 2),
                         cell(group, final_test, 2), cell(group, best_test, 2),
                         cell(group, seconds_per_epoch, 1));
  }
  for (const RunGroup& group : groups)
    for (const std::string& line : group.diverged)
      table += fmt::format("\n{} diverged, not averaged: {}\n", escape_pipes(group.norm), line);
  return table;
}

}  // namespace normlab
