#include "png_file.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include "normlab/atomic_file.hpp"
#include "normlab/error.hpp"

namespace normlab {

namespace {
constexpr std::array<std::uint8_t, 8> kSignature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
// The last chunk of every PNG: zero length, type IEND, its fixed CRC.
constexpr std::array<std::uint8_t, 12> kEnd = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};

bool is_whole_png(const std::vector<std::byte>& bytes) {
  if (bytes.size() < kSignature.size() + kEnd.size()) return false;
  const auto* u = reinterpret_cast<const std::uint8_t*>(bytes.data());
  return std::equal(kSignature.begin(), kSignature.end(), u) &&
         std::equal(kEnd.begin(), kEnd.end(), u + bytes.size() - kEnd.size());
}
}  // namespace

void write_png_atomically(const std::filesystem::path& png,
                          const std::function<void(const std::filesystem::path&)>& draw_to) {
  write_file_atomically_via(png, [&](const std::filesystem::path& temporary) {
    draw_to(temporary);
    if (!is_whole_png(read_file(temporary)))
      fail(png, "the PNG came out incomplete (is the disk full?)");
  });
}

}  // namespace normlab
