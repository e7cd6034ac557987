#include "png_file.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <sys/statvfs.h>

#include "normlab/io/atomic_file.hpp"
#include "normlab/base/error.hpp"

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

// Libraries report a failed write in their own words ("error while writing to output stream");
// a full disk is the usual cause, so say so when it is.
std::string cause_if_disk_full(const std::filesystem::path& png) {
  struct statvfs fs {};
  const std::filesystem::path dir = png.has_parent_path() ? png.parent_path() : ".";
  if (::statvfs(dir.c_str(), &fs) == 0 && std::uint64_t(fs.f_bavail) * fs.f_frsize < (64u << 10))
    return ": no space left on device";
  return "";
}

}  // namespace

void write_png_atomically(const std::filesystem::path& png,
                          const std::function<void(const std::filesystem::path&)>& draw_to) {
  write_file_atomically_via(png, [&](const std::filesystem::path& temporary) {
    // The free space is read while the partial file still holds its blocks: once it is removed,
    // a large figure's leftover room no longer looks like a full disk.
    try {
      draw_to(temporary);
    } catch (const Error& e) {
      const std::string cause = cause_if_disk_full(png);
      if (cause.empty() || std::string_view(e.what()).find("space") != std::string_view::npos) throw;
      throw Error(e.what() + cause);
    }
    if (!is_whole_png(read_file(temporary)))
      fail(png, "the PNG came out incomplete" + cause_if_disk_full(png));
  });
}

}  // namespace normlab
