#include "normlab/report/metrics_files.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "normlab/base/error.hpp"
#include "normlab/io/atomic_file.hpp"

namespace normlab {
namespace {

// The one list of columns/keys, so CSV, JSON writer and JSON reader cannot drift apart.
struct Field {
  const char* name;
  double EpochMetrics::*value;
};
constexpr Field kDoubleFields[] = {
    {"learning_rate", &EpochMetrics::learning_rate}, {"train_loss", &EpochMetrics::train_loss},
    {"train_accuracy", &EpochMetrics::train_accuracy}, {"test_loss", &EpochMetrics::test_loss},
    {"test_accuracy", &EpochMetrics::test_accuracy}, {"seconds", &EpochMetrics::seconds},
};

std::string read_whole_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(path.string() + ": cannot read");
  return text.str();
}

double read_double(const std::filesystem::path& path, const nlohmann::json& entry,
                   std::size_t index, const char* key) {
  auto it = entry.find(key);
  if (it != entry.end() && it->is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (it == entry.end() || !it->is_number()) {
    throw Error(fmt::format("{}: entry {} has no number '{}'", path.string(), index, key));
  }
  return it->get<double>();
}

}  // namespace

void write_metrics_csv(const std::filesystem::path& csv, std::span<const EpochMetrics> epochs) {
  std::string text = "epoch";
  for (const Field& field : kDoubleFields) text += std::string(",") + field.name;
  text += "\n";
  for (const EpochMetrics& m : epochs) {
    text += std::to_string(m.epoch);
    for (const Field& field : kDoubleFields) text += fmt::format(",{}", m.*field.value);
    text += "\n";
  }
  write_file_atomically(csv, text);
}

void write_metrics_json(const std::filesystem::path& json, std::span<const EpochMetrics> epochs) {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const EpochMetrics& m : epochs) {
    nlohmann::ordered_json entry;
    entry["epoch"] = m.epoch;
    for (const Field& field : kDoubleFields) entry[field.name] = m.*field.value;  // NaN -> null
    array.push_back(entry);
  }
  write_file_atomically(json, array.dump(2) + "\n");
}

std::vector<EpochMetrics> read_metrics_json(const std::filesystem::path& json) {
  const std::string text = read_whole_file(json);
  nlohmann::json array;
  try {
    array = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(json.string() + ": malformed JSON (" + e.what() + ")");
  }
  if (!array.is_array()) throw Error(json.string() + ": expected an array of epoch metrics");

  std::vector<EpochMetrics> epochs;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const nlohmann::json& entry = array[i];
    if (!entry.is_object()) throw Error(fmt::format("{}: entry {} is not an object", json.string(), i));
    auto epoch = entry.find("epoch");
    if (epoch == entry.end() || !epoch->is_number_integer()) {
      throw Error(fmt::format("{}: entry {} has no integer 'epoch'", json.string(), i));
    }
    EpochMetrics m;
    m.epoch = epoch->get<int>();
    for (const Field& field : kDoubleFields) m.*field.value = read_double(json, entry, i, field.name);
    epochs.push_back(m);
  }
  return epochs;
}

std::vector<EpochMetrics> read_metrics_csv(const std::filesystem::path& csv) {
  std::istringstream text(read_whole_file(csv));
  std::string header = "epoch", line;
  for (const Field& field : kDoubleFields) header += std::string(",") + field.name;
  if (!std::getline(text, line) || line != header)
    throw Error(csv.string() + ": line 1 is not the header '" + header + "'");
  std::vector<EpochMetrics> epochs;
  for (int number = 2; std::getline(text, line); ++number) {
    const char* p = line.c_str();
    char* end = nullptr;
    EpochMetrics m;
    const long epoch = std::strtol(p, &end, 10);
    bool ok = end != p && *end == ',';
    m.epoch = int(epoch);
    for (const Field& field : kDoubleFields) {
      if (!ok) break;
      p = end + 1;
      m.*field.value = std::strtod(p, &end);  // "nan" for a diverged loss
      ok = end != p && (*end == ',' || *end == '\0');
    }
    if (!ok || *end != '\0') throw Error(fmt::format("{}: line {} is not {} numbers", csv.string(), number, 1 + std::size(kDoubleFields)));
    epochs.push_back(m);
  }
  return epochs;
}

}  // namespace normlab
