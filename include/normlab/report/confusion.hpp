// The confusion matrix of a classifier: counts[actual * classes + predicted].
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace normlab {

// Heat map with the count written in every cell; rows = actual class, columns = predicted.
void plot_confusion(const std::filesystem::path& png, const std::vector<std::int64_t>& counts,
                    const std::vector<std::string>& class_names, const std::string& title);

// CSV: header "actual\predicted,<class names...>", then one row per actual class.
void write_confusion_csv(const std::filesystem::path& csv, const std::vector<std::int64_t>& counts,
                         const std::vector<std::string>& class_names);

}  // namespace normlab
