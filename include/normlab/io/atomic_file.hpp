// The one way normlab writes a file: a reader of `path` sees either the old contents or the
// complete new ones, never a half-written file, and a crash right after the call cannot undo it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

namespace normlab {

// Writes `bytes` to a temporary file next to `path`, fsyncs it, renames it over `path` and
// fsyncs the directory. On failure the temporary is removed, `path` is left as it was, and
// an Error naming the path and the cause is thrown.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes);
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

// Same, writing the pieces back to back, so large buffers need not be concatenated first.
void write_file_atomically(const std::filesystem::path& path,
                           std::span<const std::span<const std::byte>> pieces);

// Same, for libraries that only write to a path of their own (PLplot, cairo): `write_to` fills
// the temporary file it is given and throws if the result is incomplete; only then is the
// temporary made durable and renamed over `path`.
void write_file_atomically_via(const std::filesystem::path& path,
                               const std::function<void(const std::filesystem::path&)>& write_to);

// The whole file; throws an Error naming the path if it cannot be opened or read.
std::vector<std::byte> read_file(const std::filesystem::path& path);

// Makes a rename or creation inside `dir` durable; throws an Error naming the directory.
void sync_directory(const std::filesystem::path& dir);

}  // namespace normlab
