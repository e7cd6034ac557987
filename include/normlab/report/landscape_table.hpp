// The loss-landscape measurements of a report's settings as one table: for each setting, each
// quantity's median over a run's measured steps (medians, since single steps spike), then the
// mean ± std of those medians over the setting's runs.
#pragma once

#include <span>
#include <string>

#include "normlab/report/diagnostics_files.hpp"

namespace normlab {

// Markdown with a header line, or "" when no setting has landscape rows.
std::string landscape_table(std::span<const SettingDiagnostics> settings);

}  // namespace normlab
