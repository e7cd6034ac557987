#include "normlab/npy.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>
#include <system_error>

#include "normlab/atomic_file.hpp"
#include "normlab/error.hpp"

namespace normlab {

// The raw floats are written and read as they lie in memory.
static_assert(std::endian::native == std::endian::little, ".npy '<f4' I/O assumes little-endian");

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kNpyMagic = "\x93NUMPY";
constexpr std::size_t kNpyAlignment = 64;
// numpy >= 1.24 leaves room after the dict so the first axis can grow in place; matching it
// keeps our files byte-identical to numpy.save's.
constexpr std::size_t kGrowthAxisMaxDigits = 21;
constexpr std::string_view kFloat32Descr = "<f4";

constexpr std::string_view kManifestName = "manifest.json";
constexpr std::string_view kWeightsFormat = "normlab-weights";
constexpr int kWeightsVersion = 1;

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw Error(source + ": " + what);
}

// Python's repr of a shape tuple: (16, 3, 3, 3), (10,), ().
std::string shape_to_string(std::span<const std::int64_t> shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  if (shape.size() == 1) text += ",";
  return text + ")";
}

// ----- .npy header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } -----

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

// Reads the Python literal numpy writes; only the forms a header can hold are understood.
class HeaderDictParser {
 public:
  HeaderDictParser(std::string_view text, const std::string& source)
      : text_(text), source_(source) {}

  NpyHeader parse() {
    NpyHeader header;
    bool seen_descr = false, seen_fortran_order = false, seen_shape = false;
    expect('{');
    while (!try_consume('}')) {
      std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        header.descr = parse_string();
        seen_descr = true;
      } else if (key == "fortran_order") {
        header.fortran_order = parse_bool();
        seen_fortran_order = true;
      } else if (key == "shape") {
        header.shape = parse_shape();
        seen_shape = true;
      } else {
        fail(source_, "unexpected key '" + key + "' in .npy header");
      }
      if (!try_consume(',')) {
        expect('}');
        break;
      }
    }
    if (!seen_descr) fail(source_, ".npy header has no 'descr'");
    if (!seen_fortran_order) fail(source_, ".npy header has no 'fortran_order'");
    if (!seen_shape) fail(source_, ".npy header has no 'shape'");
    return header;
  }

 private:
  [[noreturn]] void malformed(const std::string& expected) {
    fail(source_, "malformed .npy header: expected " + expected + " at offset " +
                      std::to_string(pos_) + " of \"" + printable(text_) + "\"");
  }

  // The header as one line for an error message: padding dropped, control bytes shown as '?'.
  static std::string printable(std::string_view text) {
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.remove_suffix(1);
    std::string line(text);
    for (char& c : line) {
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    return line;
  }

  void skip_spaces() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }

  bool try_consume(char c) {
    skip_spaces();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void expect(char c) {
    if (!try_consume(c)) malformed(std::string("'") + c + "'");
  }

  bool try_consume_word(std::string_view word) {
    skip_spaces();
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  std::string parse_string() {
    skip_spaces();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      malformed("a quoted string");
    }
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) malformed("a closing quote");
    std::string value(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return value;
  }

  bool parse_bool() {
    if (try_consume_word("True")) return true;
    if (try_consume_word("False")) return false;
    malformed("True or False");
  }

  std::int64_t parse_dimension() {
    skip_spaces();
    const std::size_t start = pos_;
    std::int64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const int digit = text_[pos_] - '0';
      if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) {
        fail(source_, ".npy header has a dimension too large to represent");
      }
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) malformed("a non-negative integer");
    try_consume('L');  // Python 2 wrote long integers as 3L
    return value;
  }

  std::vector<std::int64_t> parse_shape() {
    std::vector<std::int64_t> shape;
    expect('(');
    while (!try_consume(')')) {
      shape.push_back(parse_dimension());
      if (!try_consume(',')) {
        expect(')');
        break;
      }
    }
    return shape;
  }

  std::string_view text_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

std::uint32_t read_little_endian(std::span<const std::byte> bytes, std::size_t offset,
                                 std::size_t width) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value |= std::to_integer<std::uint32_t>(bytes[offset + i]) << (8 * i);
  }
  return value;
}

// Element count of `shape`, refusing counts whose byte size would not fit in memory anyway.
std::size_t element_count(std::span<const std::int64_t> shape, const std::string& source) {
  constexpr auto kMaxElements = std::numeric_limits<std::size_t>::max() / sizeof(float);
  std::size_t count = 1;
  for (auto dimension : shape) {
    if (dimension < 0) fail(source, "negative dimension in shape " + shape_to_string(shape));
    const auto d = static_cast<std::size_t>(dimension);
    if (d != 0 && count > kMaxElements / d) {
      fail(source, "shape " + shape_to_string(shape) + " is too large");
    }
    count *= d;
  }
  return count;
}

// ----- weights directory -----

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

std::span<const std::byte> bytes_of(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
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
    element_count(tensor.shape, dir.string() + ": tensor '" + tensor.name + "'");
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

bool is_weights_export(const fs::path& dir) {
  std::error_code error;
  if (!fs::is_regular_file(dir / kManifestName, error)) return false;
  try {
    const auto bytes = read_file(dir / kManifestName);
    const auto manifest = nlohmann::json::parse(
        reinterpret_cast<const char*>(bytes.data()),
        reinterpret_cast<const char*>(bytes.data()) + bytes.size(), nullptr, false);
    return is_weights_manifest(manifest);
  } catch (const Error&) {
    return false;
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
  write_file_atomically(staging / kManifestName, bytes_of(manifest.dump(2) + "\n"));
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

nlohmann::json read_manifest(const fs::path& path) {
  const auto bytes = read_file(path);
  const char* text = reinterpret_cast<const char*>(bytes.data());
  try {
    return nlohmann::json::parse(text, text + bytes.size());
  } catch (const nlohmann::json::exception& e) {
    fail(path.string(), std::string("not valid JSON: ") + e.what());
  }
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

std::vector<std::byte> encode_npy_header(std::span<const std::int64_t> shape) {
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_to_string(shape) + ", }";
  if (!shape.empty()) {
    dict.append(kGrowthAxisMaxDigits - std::to_string(shape[0]).size(), ' ');
  }
  // Spaces then '\n' end the header so the data starts on a 64-byte boundary (numpy adds a
  // full 64 when already aligned, and so do we).
  constexpr std::size_t kPrefixSize = kNpyMagic.size() + 2 + 2;  // magic, version, length
  const std::size_t unpadded = dict.size() + 1;
  const std::size_t padding = kNpyAlignment - (kPrefixSize + unpadded) % kNpyAlignment;
  const std::size_t header_length = unpadded + padding;
  if (header_length > std::numeric_limits<std::uint16_t>::max()) {
    throw Error("shape " + shape_to_string(shape) + " is too long for a .npy 1.0 header");
  }
  dict.append(padding, ' ');
  dict += '\n';

  std::string prefix(kNpyMagic);
  prefix += '\x01';  // version 1.0
  prefix += '\x00';
  prefix += static_cast<char>(header_length & 0xff);
  prefix += static_cast<char>(header_length >> 8);

  const std::string header = prefix + dict;
  const auto bytes = bytes_of(header);
  return {bytes.begin(), bytes.end()};
}

void write_npy(const fs::path& path, std::span<const std::int64_t> shape,
               std::span<const float> values) {
  if (element_count(shape, path.string()) != values.size()) {
    fail(path.string(), "shape " + shape_to_string(shape) + " does not match " +
                            std::to_string(values.size()) + " values");
  }
  const auto header = encode_npy_header(shape);
  const std::span<const std::byte> pieces[] = {header, std::as_bytes(values)};
  write_file_atomically(path, pieces);
}

NpyFloat32Array decode_npy(std::span<const std::byte> bytes, const std::string& source) {
  constexpr std::size_t kVersionOffset = 6;
  constexpr std::size_t kLengthOffset = 8;
  if (bytes.size() < kLengthOffset + 2) {
    fail(source, "too short (" + std::to_string(bytes.size()) + " bytes) for a .npy file");
  }
  if (std::memcmp(bytes.data(), kNpyMagic.data(), kNpyMagic.size()) != 0) {
    fail(source, "not a .npy file (bad magic)");
  }
  const int major = std::to_integer<int>(bytes[kVersionOffset]);
  const int minor = std::to_integer<int>(bytes[kVersionOffset + 1]);
  if (minor != 0 || major < 1 || major > 3) {
    fail(source, "unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor) +
                     " (reads 1.0, 2.0 and 3.0)");
  }
  // Version 1.0 stores the header length in 2 bytes, later versions in 4.
  const std::size_t length_width = major == 1 ? 2 : 4;
  if (bytes.size() < kLengthOffset + length_width) {
    fail(source, "truncated inside the .npy header length");
  }
  const std::size_t header_length = read_little_endian(bytes, kLengthOffset, length_width);
  const std::size_t header_start = kLengthOffset + length_width;
  if (header_length > bytes.size() - header_start) {
    fail(source, "truncated: .npy header claims " + std::to_string(header_length) +
                     " bytes but the file has " + std::to_string(bytes.size()));
  }
  const std::string_view header_text(reinterpret_cast<const char*>(bytes.data()) + header_start,
                                     header_length);
  const NpyHeader header = HeaderDictParser(header_text, source).parse();

  if (header.descr != kFloat32Descr) {
    fail(source, "dtype is '" + header.descr + "', expected '" + std::string(kFloat32Descr) +
                     "' (little-endian float32)");
  }
  if (header.fortran_order) {
    fail(source, "array is in Fortran order (fortran_order True); only C order is supported");
  }
  const std::size_t count = element_count(header.shape, source);
  const auto data = bytes.subspan(header_start + header_length);
  if (data.size() != count * sizeof(float)) {
    fail(source, "data is " + std::to_string(data.size()) + " bytes but shape " +
                     shape_to_string(header.shape) + " of '<f4' needs " +
                     std::to_string(count * sizeof(float)));
  }
  NpyFloat32Array array{header.shape, std::vector<float>(count)};
  std::memcpy(array.values.data(), data.data(), data.size());
  return array;
}

NpyFloat32Array read_npy(const fs::path& path) {
  return decode_npy(read_file(path), path.string());
}

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
                                shape_to_string(entry->shape) + ", expected " +
                                shape_to_string(tensor.shape));
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
      fail(file.string(), "shape is " + shape_to_string(array.shape) + ", expected " +
                              shape_to_string(tensors[i].shape) + " for tensor '" +
                              tensors[i].name + "'");
    }
    loaded.push_back(std::move(array.values));
  }

  for (std::size_t i = 0; i < tensors.size(); ++i) {
    std::copy(loaded[i].begin(), loaded[i].end(), tensors[i].data);
  }
}

}  // namespace normlab
