// Errors at the boundaries (files, options, checkpoints). The message is one line that names
// the thing at fault and what is wrong with it; the CLI prints it and exits non-zero.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace normlab {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A setting out of range or inconsistent, named by its key in config.json ("epochs"). Whoever
// knows where the setting came from (an option, a saved config.json) names it in the message.
struct ConfigError : Error {
  ConfigError(std::string key, const std::string& problem)
      : Error(key + " " + problem), key(std::move(key)), problem(problem) {}
  std::string key;      // "learning_rate"
  std::string problem;  // "must be in (0, 10]"
};

// Throws Error("WHERE: PROBLEM"), the shape of every boundary error.
[[noreturn]] inline void fail(std::string_view where, std::string_view problem) {
  throw Error(std::string(where) + ": " + std::string(problem));
}
[[noreturn]] inline void fail(const std::string& where, std::string_view problem) {
  fail(std::string_view(where), problem);
}
[[noreturn]] inline void fail(const char* where, std::string_view problem) {
  fail(std::string_view(where), problem);
}
[[noreturn]] inline void fail(const std::filesystem::path& where, std::string_view problem) {
  fail(std::string_view(where.native()), problem);
}

// The system's words for the current errno ("No space left on device").
std::string errno_text();

}  // namespace normlab
