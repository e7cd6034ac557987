#include "normlab/io/checkpoint_file.hpp"

#include <zlib.h>

#include <cstring>
#include <limits>
#include <string_view>

#include "normlab/io/atomic_file.hpp"
#include "normlab/base/error.hpp"
#include "normlab/base/little_endian.hpp"

namespace normlab {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic{"NORMLAB-CKPT\0\0\0\0", 16};
constexpr std::size_t kVersionOffset = 16;
constexpr std::size_t kMetadataLengthOffset = 20;
constexpr std::size_t kMetadataOffset = 28;
constexpr std::size_t kCrcSize = 4;

std::uint32_t crc32_of(std::uint32_t crc, std::span<const std::byte> bytes) {
  // zlib treats a null buffer as "give me the initial value", which an empty span may be.
  if (bytes.empty()) return crc;
  return static_cast<std::uint32_t>(
      crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

// The blob list as the metadata records it; refuses anything a writer could not have produced.
struct BlobEntry {
  std::string name;
  std::uint64_t bytes;
};

std::vector<BlobEntry> blob_entries(const nlohmann::json& metadata, const fs::path& path) {
  if (!metadata.is_object() || !metadata.contains("blobs") || !metadata["blobs"].is_array()) {
    fail(path, "metadata has no 'blobs' array");
  }
  std::vector<BlobEntry> entries;
  for (const auto& json : metadata["blobs"]) {
    if (!json.is_object() || !json.contains("name") || !json["name"].is_string() ||
        !json.contains("bytes") || !json["bytes"].is_number_unsigned()) {
      fail(path, "metadata has a malformed blob entry: " + json.dump());
    }
    entries.push_back({json["name"].get<std::string>(), json["bytes"].get<std::uint64_t>()});
  }
  return entries;
}

}  // namespace

void save_checkpoint(const fs::path& path, const nlohmann::json& metadata,
                     std::span<const CheckpointBlob> blobs) {
  if (!metadata.is_object()) fail(path, "checkpoint metadata must be a JSON object");
  if (metadata.contains("blobs")) {
    fail(path, "checkpoint metadata must not set 'blobs'; save_checkpoint records the blobs");
  }
  nlohmann::json full_metadata = metadata;
  full_metadata["blobs"] = nlohmann::json::array();
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    if (blobs[i].name.empty()) fail(path, "checkpoint blob " + std::to_string(i) + " has no name");
    for (std::size_t j = 0; j < i; ++j) {
      if (blobs[j].name == blobs[i].name) {
        fail(path, "checkpoint blob '" + blobs[i].name + "' appears twice");
      }
    }
    full_metadata["blobs"].push_back({{"name", blobs[i].name}, {"bytes", blobs[i].bytes.size()}});
  }
  const std::string metadata_text = full_metadata.dump();

  std::vector<std::byte> header(kMagic.size());
  std::memcpy(header.data(), kMagic.data(), kMagic.size());
  append_little_endian(header, kCheckpointVersion, 4);
  append_little_endian(header, metadata_text.size(), 8);
  header.insert(header.end(), reinterpret_cast<const std::byte*>(metadata_text.data()),
                reinterpret_cast<const std::byte*>(metadata_text.data()) + metadata_text.size());

  // Blobs are written from the caller's memory, never copied into one buffer.
  std::vector<std::span<const std::byte>> pieces{header};
  std::uint32_t crc = crc32_of(0, header);
  for (const CheckpointBlob& blob : blobs) {
    pieces.push_back(blob.bytes);
    crc = crc32_of(crc, blob.bytes);
  }
  std::vector<std::byte> trailer;
  append_little_endian(trailer, crc, kCrcSize);
  pieces.push_back(trailer);

  write_file_atomically(path, pieces);
}

LoadedCheckpoint load_checkpoint(const fs::path& path) {
  LoadedCheckpoint checkpoint;
  checkpoint.path = path;
  checkpoint.storage = read_file(path);
  const std::span<const std::byte> file = checkpoint.storage;

  const std::size_t magic_bytes = std::min(file.size(), kMagic.size());
  if (std::memcmp(file.data(), kMagic.data(), magic_bytes) != 0) {
    fail(path, "not a normlab checkpoint (wrong magic)");
  }
  if (file.size() < kMetadataOffset + kCrcSize) {
    fail(path, "truncated: " + std::to_string(file.size()) + " bytes, less than the " +
                   std::to_string(kMetadataOffset + kCrcSize) + " of an empty checkpoint");
  }
  const auto version = read_little_endian(file, kVersionOffset, 4);
  if (version != kCheckpointVersion) {
    fail(path, "checkpoint format version " + std::to_string(version) +
                   ", this build supports version " + std::to_string(kCheckpointVersion));
  }
  const auto metadata_length = read_little_endian(file, kMetadataLengthOffset, 8);
  if (metadata_length > file.size() - kMetadataOffset - kCrcSize) {
    fail(path, "truncated: metadata of " + std::to_string(metadata_length) +
                   " bytes does not fit in the " + std::to_string(file.size()) + "-byte file");
  }

  const auto data_without_crc = file.first(file.size() - kCrcSize);
  const bool crc_matches =
      crc32_of(0, data_without_crc) == read_little_endian(file, file.size() - kCrcSize, kCrcSize);

  const char* metadata_text = reinterpret_cast<const char*>(file.data()) + kMetadataOffset;
  checkpoint.metadata =
      nlohmann::json::parse(metadata_text, metadata_text + metadata_length, nullptr, false);
  // Without readable metadata the blob sizes are unknown; a bad CRC is the likelier story.
  if (checkpoint.metadata.is_discarded()) {
    if (!crc_matches) fail(path, "corrupt: CRC-32 mismatch");
    fail(path, "metadata is not valid JSON");
  }

  // The sizes the metadata promises must add up to the file, before the CRC is trusted to say
  // "corrupt": a short file is reported as truncated.
  std::uint64_t expected_size = kMetadataOffset + metadata_length + kCrcSize;
  for (const BlobEntry& entry : blob_entries(checkpoint.metadata, path)) {
    if (entry.bytes > std::numeric_limits<std::uint64_t>::max() - expected_size) {
      fail(path, "corrupt: blob '" + entry.name + "' claims an impossible size");
    }
    expected_size += entry.bytes;
  }
  if (file.size() < expected_size) {
    fail(path, "truncated: " + std::to_string(file.size()) + " bytes, its metadata describes " +
                   std::to_string(expected_size));
  }
  if (file.size() > expected_size) {
    fail(path, "corrupt: " + std::to_string(file.size()) + " bytes, its metadata describes " +
                   std::to_string(expected_size));
  }
  if (!crc_matches) fail(path, "corrupt: CRC-32 mismatch");
  return checkpoint;
}

std::span<const std::byte> LoadedCheckpoint::blob(const std::string& name) const {
  if (storage.size() < kMetadataOffset)
    fail(path, "no checkpoint loaded, so no blob '" + name + "'");
  std::uint64_t offset = kMetadataOffset + read_little_endian(storage, kMetadataLengthOffset, 8);
  for (const auto& entry : metadata.at("blobs")) {
    const auto size = entry.at("bytes").get<std::uint64_t>();
    if (entry.at("name") == name) return std::span(storage).subspan(offset, size);
    offset += size;
  }
  fail(path, "checkpoint has no blob '" + name + "'");
}

}  // namespace normlab
