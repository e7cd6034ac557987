// NumPy's .npy format for little-endian float32 arrays in C order, and the weights directory
// built from it: one <name>.npy per tensor plus manifest.json, readable with numpy.load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "normlab/tensor_view.hpp"

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

// Writes the directory completely beside `dir`, then swaps it in, so `dir` only ever holds a
// whole export. An existing `dir` is replaced only if it is empty or a previous export.
void export_weights(const std::filesystem::path& dir, std::span<const TensorView> tensors);

// Reads and checks every file before writing any float into `tensors`: a refused import leaves
// them untouched. The manifest must list exactly these tensors (by name) with these shapes.
void import_weights(const std::filesystem::path& dir, std::span<const TensorView> tensors);

}  // namespace normlab
