// The exact bytes numpy writes for a few small arrays, to check the .npy code against numpy
// itself: what it must write byte for byte, and what it must read or refuse.
#pragma once

#include <array>
#include <cstddef>
#include <span>

namespace normlab {

// A .npy file as numpy lays one out: `prefix` (magic string, version, and the header's length
// as numpy wrote it), the header dictionary, spaces up to a multiple of 64 bytes, a newline,
// then the data. Compiling fails where the length in `prefix` is not the padded header's, so a
// fixture cannot drift from the bytes numpy wrote.
template <std::size_t kPrefix, std::size_t kDictionary, std::size_t kData>
consteval auto numpy_file(const char (&prefix)[kPrefix], const char (&dictionary)[kDictionary],
                          const std::array<unsigned char, kData>& data) {
  constexpr std::size_t prefix_size = kPrefix - 1, dictionary_size = kDictionary - 1;
  constexpr std::size_t data_offset = (prefix_size + dictionary_size + 1 + 63) / 64 * 64;
  std::size_t declared_length = 0;  // little-endian, from byte 8 to the prefix's end
  for (std::size_t i = prefix_size; i-- > 8;)
    declared_length = declared_length * 256 + static_cast<unsigned char>(prefix[i]);
  if (declared_length != data_offset - prefix_size) throw "the prefix's header length is wrong";
  std::array<unsigned char, data_offset + kData> file{};
  std::size_t at = 0;
  for (std::size_t i = 0; i < prefix_size; ++i) file[at++] = static_cast<unsigned char>(prefix[i]);
  for (std::size_t i = 0; i < dictionary_size; ++i)
    file[at++] = static_cast<unsigned char>(dictionary[i]);
  while (at < data_offset - 1) file[at++] = ' ';
  file[at++] = '\n';
  for (unsigned char byte : data) file[at++] = byte;
  return file;
}

// Fixtures: the exact bytes numpy 1.24.2 writes (generated with the Python lines shown).
inline constexpr float kNumpy2x3Values[] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
inline constexpr auto kNumpy2x3Data = std::to_array<unsigned char>(
    {0x00, 0x00, 0x80, 0xbf, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0xc0, 0x3f});
// np.save(f, (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1))
inline constexpr auto kNumpy2x3 =
    numpy_file("\x93NUMPY\x01\x00\x76\x00",
               "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", kNumpy2x3Data);
// np.lib.format.write_array(f, <same array>, version=(2, 0))
inline constexpr auto kNumpy2x3Version2 =
    numpy_file("\x93NUMPY\x02\x00\x74\x00\x00\x00",
               "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", kNumpy2x3Data);
// np.save(f, np.float32(3.25).reshape(()))
inline constexpr auto kNumpyScalar = numpy_file(
    "\x93NUMPY\x01\x00\x76\x00", "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
    std::to_array<unsigned char>({0x00, 0x00, 0x50, 0x40}));
// np.save(f, <same 2x3 array>.astype(np.float64))
inline constexpr auto kNumpy2x3Float64 = numpy_file(
    "\x93NUMPY\x01\x00\x76\x00", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
    std::to_array<unsigned char>({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0xbf, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0xe0, 0xbf, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0xe0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f}));
// np.save(f, np.asfortranarray(<same 2x3 array>))
inline constexpr auto kNumpy2x3Fortran = numpy_file(
    "\x93NUMPY\x01\x00\x76\x00", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
    std::to_array<unsigned char>({0x00, 0x00, 0x80, 0xbf, 0x00, 0x00, 0x00, 0x3f,
                                  0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x80, 0x3f,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x3f}));

inline std::span<const std::byte> bytes_of(std::span<const unsigned char> bytes) {
  return std::as_bytes(bytes);
}

}  // namespace normlab
