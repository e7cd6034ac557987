#include "normlab/io/npy.hpp"

#include <bit>
#include <cstring>
#include <limits>
#include <string_view>

#include "normlab/io/atomic_file.hpp"
#include "normlab/base/error.hpp"
#include "normlab/base/little_endian.hpp"

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

}  // namespace

std::string npy_shape_string(std::span<const std::int64_t> shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  if (shape.size() == 1) text += ",";
  return text + ")";
}

std::size_t npy_element_count(std::span<const std::int64_t> shape, const std::string& source) {
  constexpr auto kMaxElements = std::numeric_limits<std::size_t>::max() / sizeof(float);
  std::size_t count = 1;
  for (auto dimension : shape) {
    if (dimension < 0) fail(source, "negative dimension in shape " + npy_shape_string(shape));
    const auto d = static_cast<std::size_t>(dimension);
    if (d != 0 && count > kMaxElements / d) {
      fail(source, "shape " + npy_shape_string(shape) + " is too large");
    }
    count *= d;
  }
  return count;
}

std::vector<std::byte> encode_npy_header(std::span<const std::int64_t> shape) {
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + npy_shape_string(shape) + ", }";
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
    throw Error("shape " + npy_shape_string(shape) + " is too long for a .npy 1.0 header");
  }
  dict.append(padding, ' ');
  dict += '\n';

  std::string prefix(kNpyMagic);
  prefix += '\x01';  // version 1.0
  prefix += '\x00';
  prefix += static_cast<char>(header_length & 0xff);
  prefix += static_cast<char>(header_length >> 8);

  const std::string header = prefix + dict;
  const auto bytes = std::as_bytes(std::span(header));
  return {bytes.begin(), bytes.end()};
}

void write_npy(const fs::path& path, std::span<const std::int64_t> shape,
               std::span<const float> values) {
  if (npy_element_count(shape, path.string()) != values.size()) {
    fail(path.string(), "shape " + npy_shape_string(shape) + " does not match " +
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
  const std::size_t count = npy_element_count(header.shape, source);
  const auto data = bytes.subspan(header_start + header_length);
  if (data.size() != count * sizeof(float)) {
    fail(source, "data is " + std::to_string(data.size()) + " bytes but shape " +
                     npy_shape_string(header.shape) + " of '<f4' needs " +
                     std::to_string(count * sizeof(float)));
  }
  NpyFloat32Array array{header.shape, std::vector<float>(count)};
  std::memcpy(array.values.data(), data.data(), data.size());
  return array;
}

NpyFloat32Array read_npy(const fs::path& path) {
  return decode_npy(read_file(path), path.string());
}

}  // namespace normlab
