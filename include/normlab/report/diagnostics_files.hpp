// A run's diagnostics on disk: diagnostics.csv (epoch,step,layer,quantity,value; one row per
// value, numbers in shortest round-trip form) and diagnostics.png, small multiples: one panel
// per quantity, one line per layer, on a log scale where the values span decades.
#pragma once

#include <filesystem>
#include <span>
#include <string>

#include "normlab/train/diagnostics_row.hpp"

namespace normlab {

void write_diagnostics_csv(const std::filesystem::path& csv, std::span<const DiagnosticsRow> rows);

// Throws normlab::Error naming the file if there is nothing to draw or it cannot be written.
void plot_diagnostics(const std::filesystem::path& png, std::span<const DiagnosticsRow> rows,
                      const std::string& title);

}  // namespace normlab
