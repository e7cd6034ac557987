// Per-epoch metrics on disk, for spreadsheets (CSV) and for tools and later reports (JSON).
// Keys/columns: epoch,learning_rate,train_loss,train_accuracy,test_loss,test_accuracy,seconds.
// Numbers are written in shortest round-trip form, so reading gives back the same doubles.
#pragma once

#include <filesystem>
#include <span>
#include <vector>

#include "normlab/report/epoch_metrics.hpp"

namespace normlab {

void write_metrics_csv(const std::filesystem::path& csv, std::span<const EpochMetrics> epochs);

// An array of objects. A non-finite value (a diverged loss) is written as null and read as NaN.
void write_metrics_json(const std::filesystem::path& json, std::span<const EpochMetrics> epochs);

// Throws normlab::Error naming the file if it cannot be read or is not such an array.
std::vector<EpochMetrics> read_metrics_json(const std::filesystem::path& json);

// The CSV back (a published study keeps only the CSV). Throws normlab::Error naming the file
// and line if it cannot be read, its header is not the one written, or a value is no number.
std::vector<EpochMetrics> read_metrics_csv(const std::filesystem::path& csv);

}  // namespace normlab
