// .npy encoding and decoding: the bytes numpy writes, what numpy writes read back, and every
// way a broken file is refused.
#include "normlab/io/npy.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "io_test_support.hpp"
#include "normlab/io/atomic_file.hpp"
#include "numpy_fixtures.hpp"

namespace normlab {
namespace {

using NpyFormat = ScratchDirectory;

TEST_F(NpyFormat, WritesTheSameBytesAsNumpy) {
  const std::int64_t shape[] = {2, 3};
  write_npy(root_ / "a.npy", shape, kNumpy2x3Values);
  const auto expected = bytes_of(kNumpy2x3);
  EXPECT_EQ(read_file(root_ / "a.npy"), std::vector<std::byte>(expected.begin(), expected.end()));

  const float scalar[] = {3.25f};
  write_npy(root_ / "s.npy", {}, scalar);
  const auto expected_scalar = bytes_of(kNumpyScalar);
  EXPECT_EQ(read_file(root_ / "s.npy"),
            std::vector<std::byte>(expected_scalar.begin(), expected_scalar.end()));
}

TEST_F(NpyFormat, HeaderKeepsTheDataOn64ByteBoundary) {
  for (std::size_t ndim = 0; ndim < 40; ++ndim) {
    const std::vector<std::int64_t> shape(ndim, 7);
    EXPECT_EQ(encode_npy_header(shape).size() % 64, 0u) << ndim << " dimensions";
  }
}

TEST_F(NpyFormat, ReadsNumpyVersion1AndVersion2Files) {
  for (auto fixture : {bytes_of(kNumpy2x3), bytes_of(kNumpy2x3Version2)}) {
    const NpyFloat32Array array = decode_npy(fixture, "fixture");
    EXPECT_EQ(array.shape, (std::vector<std::int64_t>{2, 3}));
    EXPECT_EQ(array.values,
              std::vector<float>(std::begin(kNumpy2x3Values), std::end(kNumpy2x3Values)));
  }
}

TEST_F(NpyFormat, ReadsNumpyScalar) {
  const NpyFloat32Array array = decode_npy(bytes_of(kNumpyScalar), "fixture");
  EXPECT_TRUE(array.shape.empty());
  EXPECT_EQ(array.values, std::vector<float>{3.25f});
}

TEST_F(NpyFormat, RoundTripsOneAndFourDimensions) {
  const std::int64_t vector_shape[] = {10};
  const std::int64_t conv_shape[] = {16, 3, 3, 3};
  for (auto shape :
       {std::span<const std::int64_t>(vector_shape), std::span<const std::int64_t>(conv_shape)}) {
    std::vector<float> values(static_cast<std::size_t>(
        std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>())));
    std::iota(values.begin(), values.end(), -3.5f);
    write_npy(root_ / "t.npy", shape, values);
    const NpyFloat32Array array = read_npy(root_ / "t.npy");
    EXPECT_EQ(array.shape, std::vector<std::int64_t>(shape.begin(), shape.end()));
    EXPECT_EQ(array.values, values);
  }
}

// Builds a version 1.0 file around an arbitrary header dict, padded as numpy pads.
std::vector<std::byte> npy_with_header(std::string dict, std::size_t data_bytes) {
  dict.append(63 - (10 + dict.size()) % 64, ' ');
  dict += '\n';
  std::string file = std::string("\x93NUMPY\x01\x00", 8);
  file += static_cast<char>(dict.size() & 0xff);
  file += static_cast<char>(dict.size() >> 8);
  file += dict;
  file.append(data_bytes, '\0');
  return bytes_of(file);
}

TEST_F(NpyFormat, ParsesHeaderKeysInAnyOrder) {
  const auto bytes =
      npy_with_header("{\"shape\": (3,2),'fortran_order':False ,  'descr' : '<f4'}", 3 * 2 * 4);
  const NpyFloat32Array array = decode_npy(bytes, "handmade");
  EXPECT_EQ(array.shape, (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(array.values.size(), 6u);
}

TEST_F(NpyFormat, RefusesBrokenFiles) {
  const auto good = bytes_of(kNumpy2x3);
  auto bad_magic = std::vector<std::byte>(good.begin(), good.end());
  bad_magic[1] = std::byte{'X'};
  expect_error_containing([&] { decode_npy(bad_magic, "x.npy"); }, "x.npy: not a .npy file");

  auto bad_version = std::vector<std::byte>(good.begin(), good.end());
  bad_version[6] = std::byte{4};
  expect_error_containing([&] { decode_npy(bad_version, "x.npy"); },
                          "unsupported .npy version 4.0");

  expect_error_containing([&] { decode_npy(good.first(5), "x.npy"); }, "too short");
  expect_error_containing([&] { decode_npy(good.first(60), "x.npy"); }, "truncated");
  expect_error_containing([&] { decode_npy(good.first(good.size() - 1), "x.npy"); },
                          "data is 23 bytes but shape (2, 3) of '<f4' needs 24");

  expect_error_containing(
      [&] { decode_npy(npy_with_header("{'descr': '<f4', 'shape': (3,)}", 12), "x.npy"); },
      "no 'fortran_order'");
  expect_error_containing(
      [&] {
        decode_npy(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,", 12),
                   "x.npy");
      },
      "malformed .npy header");
  expect_error_containing(
      [&] {
        decode_npy(
            npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", 12),
            "x.npy");
      },
      "unexpected key 'x'");
  expect_error_containing([&] { decode_npy(bytes_of(kNumpy2x3Float64), "x.npy"); },
                          "dtype is '<f8', expected '<f4'");
  expect_error_containing([&] { decode_npy(bytes_of(kNumpy2x3Fortran), "x.npy"); },
                          "Fortran order");
}

}  // namespace
}  // namespace normlab
