#include <string>

#include "confusion_checks.hpp"
#include "csv_field.hpp"
#include "normlab/report/confusion.hpp"
#include "normlab/io/atomic_file.hpp"

namespace normlab {

void write_confusion_csv(const std::filesystem::path& csv, const std::vector<std::int64_t>& counts,
                         const std::vector<std::string>& class_names) {
  check_confusion_shape(csv, counts, class_names);
  const std::size_t n = class_names.size();
  std::string text = "actual\\predicted";
  for (const std::string& name : class_names) {
    text += ',';  // appended piecewise: g++ 12 warns (-Wrestrict, falsely) on "," + string
    text += csv_field(name);
  }
  text += "\n";
  for (std::size_t actual = 0; actual < n; ++actual) {
    text += csv_field(class_names[actual]);
    for (std::size_t predicted = 0; predicted < n; ++predicted) {
      text += ',';
      text += std::to_string(counts[actual * n + predicted]);
    }
    text += "\n";
  }
  write_file_atomically(csv, text);
}

}  // namespace normlab
