// The single-file container a training checkpoint is saved in: JSON metadata plus named binary
// blobs, guarded by a CRC. What the metadata says (net, norm, epoch, RNG counters, metrics) and
// whether it fits the current run is the caller's business.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

namespace normlab {

// Layout (integers little-endian):
//   magic "NORMLAB-CKPT\0\0\0\0" (16 bytes), u32 format version, u64 metadata length,
//   metadata (JSON text), each blob's bytes in the order of metadata["blobs"]
//   ([{"name": ..., "bytes": ...}]), u32 CRC-32 (zlib's) of everything before it.
inline constexpr std::uint32_t kCheckpointVersion = 1;

struct CheckpointBlob {
  std::string name;
  std::span<const std::byte> bytes;
};

// Writes atomically. `metadata` must be a JSON object; its "blobs" key is filled in here, so the
// caller must not set it. Blob names must be unique and non-empty.
void save_checkpoint(const std::filesystem::path& path, const nlohmann::json& metadata,
                     std::span<const CheckpointBlob> blobs);

struct LoadedCheckpoint {
  std::filesystem::path path;      // where it was loaded from, for error messages
  nlohmann::json metadata;         // as saved, including "blobs"
  std::vector<std::byte> storage;  // the whole file; blobs are views into it

  // Throws an Error naming the blob if the checkpoint has none of that name.
  std::span<const std::byte> blob(const std::string& name) const;
};

// Verifies magic, version, lengths, CRC and the metadata before returning; each refusal is an
// Error naming the file and saying which check failed (wrong magic, version found vs supported,
// truncated, corrupt, bad metadata).
LoadedCheckpoint load_checkpoint(const std::filesystem::path& path);

}  // namespace normlab
