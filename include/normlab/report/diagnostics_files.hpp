// A run's diagnostics on disk: diagnostics.csv (epoch,step,layer,quantity,value; one row per
// value, numbers in shortest round-trip form) and diagnostics.png, small multiples: one panel
// per quantity, one line per layer, on a log scale where the values span decades.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "normlab/report/diagnostics_row.hpp"

namespace normlab {

// Throws normlab::Error naming the file (and the line) if it is not a diagnostics file.
std::vector<DiagnosticsRow> read_diagnostics_csv(const std::filesystem::path& csv);

void write_diagnostics_csv(const std::filesystem::path& csv, std::span<const DiagnosticsRow> rows);

// Throws normlab::Error naming the file if there is nothing to draw or it cannot be written.
void plot_diagnostics(const std::filesystem::path& png, std::span<const DiagnosticsRow> rows,
                      const std::string& title);

// The runs of one setting of a comparison or sweep ("BatchNorm", "no norm init=he").
struct SettingDiagnostics {
  std::string label;
  std::vector<std::vector<DiagnosticsRow>> runs;  // one per seed
};

// The settings overlaid, one colour each: a panel per quantity; the run's loss, accuracy and
// landscape over epochs, the per-layer quantities against the layer's place in the network
// (their last epoch's mean), each line the mean over the setting's runs.
void plot_diagnostics_by_setting(const std::filesystem::path& png,
                                 std::span<const SettingDiagnostics> settings, const std::string& title);

}  // namespace normlab
