// Quoting for CSV cells (RFC 4180), so class names with commas or quotes stay one cell.
#pragma once

#include <string>
#include <string_view>

namespace normlab {

inline std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace normlab
