// Whole-file reads and crash-safe whole-file writes: a reader of `path` sees either the old
// contents or the complete new ones, never a half-written file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <vector>

namespace normlab {

// Writes `bytes` to a temporary file next to `path`, fsyncs it, renames it over `path` and
// fsyncs the directory. On failure the temporary is removed, `path` is left as it was, and
// an Error naming the path is thrown.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes);

// Same, writing the pieces back to back, so large buffers need not be concatenated first.
void write_file_atomically(const std::filesystem::path& path,
                           std::span<const std::span<const std::byte>> pieces);

// The whole file; throws an Error naming the path if it cannot be opened or read.
std::vector<std::byte> read_file(const std::filesystem::path& path);

// Makes a rename or creation inside `dir` durable; throws an Error naming the directory.
void sync_directory(const std::filesystem::path& dir);

}  // namespace normlab
