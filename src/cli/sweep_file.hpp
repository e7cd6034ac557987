// A sweep file as written: its [train] options, [grid] axes in the file's order, [[skip]]
// tables and [lr-scaling], each as command-line words. sweep_plan.hpp turns it into points.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace normlab::cli {

// An option's values as command-line words.
using Values = std::vector<std::string>;

// A [[skip]] table: the points whose grid values match every key (one of its values) are left
// out, e.g. He initialisation for the norms when only the no-norm control needs it.
using SkipRule = std::vector<std::pair<std::string, Values>>;

struct SweepFile {
  std::map<std::string, std::string> train;        // [train]: option -> value
  std::vector<std::pair<std::string, Values>> grid;  // [grid], the slowest-varying axis first
  std::vector<SkipRule> skips;                     // [[skip]]
  std::string lr_rule;                             // [lr-scaling] rule: "" or "linear"
  double reference_batch = 128;
};

// Throws normlab::Error naming the file, and the table and key at fault.
SweepFile read_sweep_file(const std::filesystem::path& file);

}  // namespace normlab::cli
