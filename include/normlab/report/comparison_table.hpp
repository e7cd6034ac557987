// The normalisation study's summary table, aggregated over seeds.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "normlab/report/epoch_metrics.hpp"

namespace normlab {

struct MeanStd {
  double mean;
  double std;  // sample standard deviation (n - 1); 0 for one value
};

// Throws normlab::Error for no values.
MeanStd mean_std(std::span<const double> values);

// All runs (seeds) of one network variant.
struct RunGroup {
  std::string norm;  // e.g. "BatchNorm"
  long parameters;
  std::vector<std::vector<EpochMetrics>> runs;  // one metrics history per finished seed
  std::vector<std::string> diverged;  // one line per diverged run: listed, never averaged
};

// Markdown table, one row per group. Columns: norm | parameters | final train acc |
// best train acc | final test acc | best test acc | s/epoch. A cell is "mean ± std" over the
// group's runs when there are 2+ runs, the plain value for one, "n/a" for none. Diverged runs
// are listed under the table.
std::string comparison_table_markdown(std::span<const RunGroup> groups);

}  // namespace normlab
