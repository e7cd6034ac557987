// The weights directory: one <name>.npy per tensor plus manifest.json, readable with numpy.load.
#pragma once

#include <filesystem>
#include <span>

#include "normlab/engine/tensor_view.hpp"

namespace normlab {

// Writes the directory completely beside `dir`, then swaps it in, so `dir` only ever holds a
// whole export. An existing `dir` is replaced only if it is empty or a previous export.
void export_weights(const std::filesystem::path& dir, std::span<const TensorView> tensors);

// Reads and checks every file before writing any float into `tensors`: a refused import leaves
// them untouched. The manifest must list exactly these tensors (by name) with these shapes.
void import_weights(const std::filesystem::path& dir, std::span<const TensorView> tensors);

}  // namespace normlab
