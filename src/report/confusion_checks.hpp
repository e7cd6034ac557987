// Both confusion outputs refuse the same malformed input, with the same message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "normlab/base/error.hpp"

namespace normlab {

inline void check_confusion_shape(const std::filesystem::path& file,
                                  const std::vector<std::int64_t>& counts,
                                  const std::vector<std::string>& class_names) {
  const std::size_t n = class_names.size();
  if (n == 0 || counts.size() != n * n) {
    throw Error(file.string() + ": confusion matrix has " + std::to_string(counts.size()) +
                " counts, expected " + std::to_string(n * n) + " for " + std::to_string(n) +
                " classes");
  }
}

}  // namespace normlab
