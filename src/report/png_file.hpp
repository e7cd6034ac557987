// PNG files written by a library (PLplot's cairo driver, cairo itself) through the one atomic
// writer, checked complete before they replace anything.
#pragma once

#include <filesystem>
#include <functional>

namespace normlab {

// Calls `draw_to(temporary)`, then refuses the result unless it is a whole PNG (signature first,
// IEND chunk last): a library that hit a full disk may say nothing and leave a truncated file.
// Only a whole PNG is renamed over `png`; otherwise an Error names `png` and nothing is left.
void write_png_atomically(const std::filesystem::path& png,
                          const std::function<void(const std::filesystem::path&)>& draw_to);

}  // namespace normlab
