#include "normlab/io/weights_directory.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "normlab/io/atomic_file.hpp"
#include "normlab/base/error.hpp"
#include "normlab/io/npy.hpp"

namespace normlab {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kManifestName = "manifest.json";
constexpr std::string_view kWeightsFormat = "normlab-weights";
constexpr int kWeightsVersion = 1;

struct ManifestEntry {
  std::string name;
  std::vector<std::int64_t> shape;
  std::string file;
};

// A tensor name becomes a file name, so it must not be able to leave the directory.
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

std::string npy_file_name(const std::string& tensor_name) {
  return tensor_name + ".npy";
}

// "runs/x/" and "runs/x" are the same directory; the sibling names need the last component.
fs::path without_trailing_separator(const fs::path& dir) {
  fs::path normal = dir.lexically_normal();
  if (!normal.has_filename() && normal.has_parent_path()) normal = normal.parent_path();
  return normal;
}

fs::path hidden_sibling(const fs::path& dir, const std::string& role) {
  static std::atomic<unsigned> counter{0};
  // Built by appending: "literal" + std::string trips a false -Wrestrict in g++ 12.
  std::string name = ".";
  name += dir.filename().string();
  name += "." + role + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  return dir.parent_path() / name;
}

void rename_or_fail(const fs::path& from, const fs::path& to, const fs::path& blame) {
  std::error_code error;
  fs::rename(from, to, error);
  if (error) {
    fail(blame.string(),
         "cannot rename " + from.string() + " to " + to.string() + ": " + error.message());
  }
}

void check_tensor_views(std::span<const TensorView> tensors, const fs::path& dir) {
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorView& tensor = tensors[i];
    if (!is_plain_file_name(tensor.name)) {
      fail(dir.string(), "tensor name '" + tensor.name + "' cannot be used as a file name");
    }
    npy_element_count(tensor.shape, dir.string() + ": tensor '" + tensor.name + "'");
    if (tensor.data == nullptr && tensor.size() > 0) {
      fail(dir.string(), "tensor '" + tensor.name + "' has no data");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (tensors[j].name == tensor.name) {
        fail(dir.string(), "tensor name '" + tensor.name + "' appears twice");
      }
    }
  }
}

bool is_weights_manifest(const nlohmann::json& manifest) {
  return manifest.is_object() && manifest.contains("format") &&
         manifest["format"] == kWeightsFormat;
}

nlohmann::json read_manifest(const fs::path& path) {
  const auto bytes = read_file(path);
  const char* text = reinterpret_cast<const char*>(bytes.data());
  try {
    return nlohmann::json::parse(text, text + bytes.size());
  } catch (const nlohmann::json::exception& e) {
    fail(path.string(), std::string("not valid JSON: ") + e.what());
  }
}

bool is_weights_export(const fs::path& dir) {
  std::error_code error;
  if (!fs::is_regular_file(dir / kManifestName, error)) return false;
  try {
    return is_weights_manifest(read_manifest(dir / kManifestName));
  } catch (const Error&) {
    return false;  // unreadable or not JSON
  }
}

// Replacing is deleting: refuse unless the directory is clearly ours (or empty), so a typo in
// the path cannot wipe an unrelated directory.
void check_replaceable(const fs::path& dir) {
  std::error_code error;
  const auto status = fs::symlink_status(dir, error);
  if (!fs::exists(status)) return;
  if (!fs::is_directory(status)) {
    fail(dir.string(), "exists and is not a directory; refusing to replace it");
  }
  if (fs::is_empty(dir, error) && !error) return;
  if (!is_weights_export(dir)) {
    fail(dir.string(),
         "exists and is not a normlab weights export (no manifest.json with format "
         "'normlab-weights'); refusing to replace it");
  }
}

void write_export(const fs::path& staging, std::span<const TensorView> tensors) {
  // Ordered, so the manifest reads format, version, tensors, and each entry name first.
  nlohmann::ordered_json entries = nlohmann::ordered_json::array();
  for (const TensorView& tensor : tensors) {
    const auto count = static_cast<std::size_t>(tensor.size());
    write_npy(staging / npy_file_name(tensor.name), tensor.shape,
              std::span<const float>(tensor.data, count));
    entries.push_back(
        {{"name", tensor.name}, {"shape", tensor.shape}, {"file", npy_file_name(tensor.name)}});
  }
  const nlohmann::ordered_json manifest = {
      {"format", kWeightsFormat}, {"version", kWeightsVersion}, {"tensors", entries}};
  const std::string text = manifest.dump(2) + "\n";
  write_file_atomically(staging / kManifestName, std::as_bytes(std::span(text)));
}

// Moves a complete staging directory to `dir`, replacing any previous export there.
void swap_into_place(const fs::path& staging, const fs::path& dir) {
  std::error_code error;
  if (!fs::exists(fs::symlink_status(dir, error))) {
    rename_or_fail(staging, dir, dir);
  } else {
    const fs::path old = hidden_sibling(dir, "old");
    rename_or_fail(dir, old, dir);
    try {
      rename_or_fail(staging, dir, dir);
    } catch (...) {
      fs::rename(old, dir, error);  // put the previous export back
      throw;
    }
    // The new export is in place; a leftover old copy is untidy but harmless.
    fs::remove_all(old, error);
  }
  sync_directory(dir.has_parent_path() ? dir.parent_path() : fs::path("."));
}

ManifestEntry parse_manifest_entry(const nlohmann::json& json, std::size_t index,
                                   const std::string& source) {
  const std::string where = "tensors[" + std::to_string(index) + "]";
  if (!json.is_object()) fail(source, where + " is not an object");
  ManifestEntry entry;
  if (!json.contains("name") || !json["name"].is_string()) {
    fail(source, where + " has no string 'name'");
  }
  entry.name = json["name"].get<std::string>();
  if (!json.contains("file") || !json["file"].is_string()) {
    fail(source, "tensor '" + entry.name + "' has no string 'file'");
  }
  entry.file = json["file"].get<std::string>();
  if (!is_plain_file_name(entry.file)) {
    fail(source, "tensor '" + entry.name + "' names file '" + entry.file +
                     "', which is not a plain file name in the directory");
  }
  if (!json.contains("shape") || !json["shape"].is_array()) {
    fail(source, "tensor '" + entry.name + "' has no 'shape' array");
  }
  for (const auto& dimension : json["shape"]) {
    if (!dimension.is_number_integer() || dimension.get<std::int64_t>() < 0) {
      fail(source,
           "tensor '" + entry.name + "' has a shape entry that is not a size: " + dimension.dump());
    }
    entry.shape.push_back(dimension.get<std::int64_t>());
  }
  return entry;
}

std::vector<ManifestEntry> parse_manifest(const nlohmann::json& manifest,
                                          const std::string& source) {
  if (!manifest.is_object()) fail(source, "is not a JSON object");
  if (!is_weights_manifest(manifest)) {
    fail(source, "format is " +
                     (manifest.contains("format") ? manifest["format"].dump() : "absent") +
                     ", expected \"" + std::string(kWeightsFormat) + "\"");
  }
  if (!manifest.contains("version") || manifest["version"] != kWeightsVersion) {
    fail(source, "version is " +
                     (manifest.contains("version") ? manifest["version"].dump() : "absent") +
                     ", this build reads version " + std::to_string(kWeightsVersion));
  }
  if (!manifest.contains("tensors") || !manifest["tensors"].is_array()) {
    fail(source, "has no 'tensors' array");
  }
  std::vector<ManifestEntry> entries;
  for (const auto& json : manifest["tensors"]) {
    entries.push_back(parse_manifest_entry(json, entries.size(), source));
    for (std::size_t i = 0; i + 1 < entries.size(); ++i) {
      if (entries[i].name == entries.back().name) {
        fail(source, "tensor '" + entries.back().name + "' is listed twice");
      }
    }
  }
  return entries;
}

}  // namespace

void export_weights(const fs::path& dir, std::span<const TensorView> tensors) {
  const fs::path target = without_trailing_separator(dir);
  // The staging and old copies are named after the last component, so it must be a real name.
  if (!is_plain_file_name(target.filename().string())) {
    fail(dir.string(), "name the export directory explicitly (not '.', '..' or '/')");
  }
  check_tensor_views(tensors, target);
  check_replaceable(target);

  const fs::path staging = hidden_sibling(target, "new");
  std::error_code error;
  if (!fs::create_directory(staging, error) || error) {
    fail(target.string(), "cannot create staging directory " + staging.string() + ": " +
                              (error ? error.message() : "it already exists"));
  }
  try {
    write_export(staging, tensors);
    swap_into_place(staging, target);
  } catch (...) {
    fs::remove_all(staging, error);
    throw;
  }
}

void import_weights(const fs::path& dir, std::span<const TensorView> tensors) {
  check_tensor_views(tensors, dir);
  const fs::path manifest_path = dir / kManifestName;
  const std::string manifest_source = manifest_path.string();
  const std::vector<ManifestEntry> entries =
      parse_manifest(read_manifest(manifest_path), manifest_source);

  // The manifest must list exactly the network's tensors, with the network's shapes.
  std::vector<const ManifestEntry*> matched;
  for (const TensorView& tensor : tensors) {
    const auto entry = std::find_if(entries.begin(), entries.end(),
                                    [&](const ManifestEntry& e) { return e.name == tensor.name; });
    if (entry == entries.end()) fail(manifest_source, "tensor '" + tensor.name + "' is missing");
    if (entry->shape != tensor.shape) {
      fail(manifest_source, "tensor '" + tensor.name + "' has shape " +
                                npy_shape_string(entry->shape) + ", expected " +
                                npy_shape_string(tensor.shape));
    }
    matched.push_back(&*entry);
  }
  if (entries.size() > tensors.size()) {
    for (const ManifestEntry& entry : entries) {
      if (std::find(matched.begin(), matched.end(), &entry) == matched.end()) {
        fail(manifest_source,
             "unexpected tensor '" + entry.name + "' (the network has none of that name)");
      }
    }
  }

  // Everything is read and checked into these before any destination float is touched.
  std::vector<std::vector<float>> loaded;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const fs::path file = dir / matched[i]->file;
    NpyFloat32Array array = read_npy(file);
    if (array.shape != tensors[i].shape) {
      fail(file.string(), "shape is " + npy_shape_string(array.shape) + ", expected " +
                              npy_shape_string(tensors[i].shape) + " for tensor '" +
                              tensors[i].name + "'");
    }
    const std::string problem = non_finite_values(array.values);
    if (!problem.empty()) fail(file.string(), "tensor '" + tensors[i].name + "' " + problem);
    loaded.push_back(std::move(array.values));
  }

  for (std::size_t i = 0; i < tensors.size(); ++i) {
    std::copy(loaded[i].begin(), loaded[i].end(), tensors[i].data);
  }
}

}  // namespace normlab
