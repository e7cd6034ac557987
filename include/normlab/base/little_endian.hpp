// Little-endian integers inside byte buffers, for the file formats (.npy headers, checkpoints):
// explicit byte order, so the files read the same on any machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace normlab {

// The `width`-byte unsigned integer at `offset`; the caller has checked the bounds.
inline std::uint64_t read_little_endian(std::span<const std::byte> bytes, std::size_t offset,
                                        std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i)
    value |= std::to_integer<std::uint64_t>(bytes[offset + i]) << (8 * i);
  return value;
}

inline void append_little_endian(std::vector<std::byte>& out, std::uint64_t value, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

}  // namespace normlab
