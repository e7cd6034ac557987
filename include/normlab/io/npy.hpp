// NumPy's .npy format for little-endian float32 arrays in C order: the header numpy.save writes,
// and whole arrays written to and read from one file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace normlab {

// The .npy header (magic, version 1.0, padded dict) for a '<f4' C-order array of `shape`,
// byte-identical to what numpy.save writes; the raw floats follow it.
std::vector<std::byte> encode_npy_header(std::span<const std::int64_t> shape);

void write_npy(const std::filesystem::path& path, std::span<const std::int64_t> shape,
               std::span<const float> values);

struct NpyFloat32Array {
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};

// Accepts versions 1.0, 2.0 and 3.0; refuses anything but '<f4' in C order. `source` names the
// bytes' origin (normally the file path) in error messages.
NpyFloat32Array decode_npy(std::span<const std::byte> bytes, const std::string& source);
NpyFloat32Array read_npy(const std::filesystem::path& path);

// Python's repr of a shape tuple, as a .npy header holds it: (16, 3, 3, 3), (10,), ().
std::string npy_shape_string(std::span<const std::int64_t> shape);

// Element count of a '<f4' array of `shape`. Throws "<source>: ..." for a negative dimension or
// a count whose byte size would not fit in memory anyway.
std::size_t npy_element_count(std::span<const std::int64_t> shape, const std::string& source);

}  // namespace normlab
