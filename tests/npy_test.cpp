// .npy encoding and decoding, and the weights directory built from it (export, import, and
// every way an import is refused without touching the destination).
#include "normlab/npy.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "normlab/atomic_file.hpp"
#include "normlab/error.hpp"

namespace normlab {
namespace {

namespace fs = std::filesystem;

// Fixtures: the exact bytes numpy 1.24.2 writes (generated with the Python lines shown).
// np.save(f, (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1))
constexpr unsigned char kNumpy2x3[] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x20,
    0x33, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0x80, 0xbf, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f,
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0xc0, 0x3f,
};
// np.lib.format.write_array(f, <same array>, version=(2, 0))
constexpr unsigned char kNumpy2x3Version2[] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x02, 0x00, 0x74, 0x00, 0x00, 0x00, 0x7b, 0x27, 0x64, 0x65,
    0x73, 0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f,
    0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61,
    0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32,
    0x2c, 0x20, 0x33, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0x80, 0xbf, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f,
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0xc0, 0x3f,
};
// np.save(f, np.float32(3.25).reshape(()))
constexpr unsigned char kNumpyScalar[] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73,
    0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f,
    0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46,
    0x61, 0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20,
    0x28, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0x00, 0x00, 0x50, 0x40,
};
// np.save(f, <same array>.astype(np.float64))
constexpr unsigned char kNumpy2x3Float64[] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x38, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x20,
    0x33, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0xbf,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f,
};
// np.save(f, np.asfortranarray(<same array>))
constexpr unsigned char kNumpy2x3Fortran[] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x54, 0x72, 0x75, 0x65,
    0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x20, 0x33,
    0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0x80, 0xbf, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x80, 0x3f,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x3f,
};
constexpr float kNumpy2x3Values[] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};

std::span<const std::byte> bytes_of(std::span<const unsigned char> bytes) {
  return std::as_bytes(bytes);
}

std::vector<std::byte> bytes_of(const std::string& text) {
  const auto bytes = std::as_bytes(std::span(text.data(), text.size()));
  return {bytes.begin(), bytes.end()};
}

// Runs `action`, expects a normlab::Error, and checks its message holds `fragment`.
template <class Action>
void expect_error_containing(Action action, const std::string& fragment) {
  try {
    action();
    ADD_FAILURE() << "no error thrown; expected one containing: " << fragment;
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos)
        << "message: " << error.what() << "\nexpected to contain: " << fragment;
    EXPECT_EQ(std::string(error.what()).find('\n'), std::string::npos) << "not one line";
  }
}

class ScratchDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() /
            ("normlab-npy-test-" + std::to_string(::getpid()) + "-" + test->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

// ----- the .npy format -----

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

// ----- the weights directory -----

// Tensors owning their floats, with views onto them.
struct TensorSet {
  std::vector<std::vector<float>> storage;
  std::vector<TensorView> views;

  void add(std::string name, std::vector<std::int64_t> shape, float first_value) {
    TensorView view{std::move(name), std::move(shape), nullptr};
    storage.emplace_back(static_cast<std::size_t>(view.size()));
    std::iota(storage.back().begin(), storage.back().end(), first_value);
    views.push_back(view);
    for (std::size_t i = 0; i < views.size(); ++i) views[i].data = storage[i].data();
  }
};

// The network of the import tests: the tensor the tests break is the second of three, so an
// import that wrote tensor by tensor would already have changed the first.
TensorSet network_tensors(float first_value) {
  TensorSet set;
  set.add("conv.weight", {4, 3, 2, 2}, first_value);
  set.add("fc.weight", {2, 3}, first_value + 1000);
  set.add("fc.bias", {3}, first_value + 2000);
  return set;
}

class WeightsDirectory : public ScratchDirectory {
 protected:
  void SetUp() override {
    ScratchDirectory::SetUp();
    export_weights(dir_(), network_tensors(0.5f).views);
  }
  fs::path dir_() const { return root_ / "weights"; }

  nlohmann::json manifest() const {
    const auto bytes = read_file(dir_() / "manifest.json");
    return nlohmann::json::parse(reinterpret_cast<const char*>(bytes.data()),
                                 reinterpret_cast<const char*>(bytes.data()) + bytes.size());
  }
  void write(const fs::path& path, std::span<const std::byte> bytes) {
    write_file_atomically(path, bytes);
  }
  void write_manifest(const nlohmann::json& json) {
    write(dir_() / "manifest.json", bytes_of(json.dump()));
  }

  // Imports into sentinel-filled tensors, expects the refusal, and checks nothing changed.
  void expect_import_refused(const std::string& fragment, TensorSet destination) {
    const auto before = destination.storage;
    expect_error_containing([&] { import_weights(dir_(), destination.views); }, fragment);
    EXPECT_EQ(destination.storage, before) << "a refused import changed destination floats";
  }
  void expect_import_refused(const std::string& fragment) {
    expect_import_refused(fragment, network_tensors(-7.0f));
  }
};

TEST_F(WeightsDirectory, RoundTripsAllTensors) {
  TensorSet destination = network_tensors(-7.0f);
  import_weights(dir_(), destination.views);
  EXPECT_EQ(destination.storage, network_tensors(0.5f).storage);
}

TEST_F(WeightsDirectory, ManifestListsTensorsInOrder) {
  const auto json = manifest();
  EXPECT_EQ(json["format"], "normlab-weights");
  EXPECT_EQ(json["version"], 1);
  ASSERT_EQ(json["tensors"].size(), 3u);
  EXPECT_EQ(json["tensors"][0]["name"], "conv.weight");
  EXPECT_EQ(json["tensors"][0]["shape"], nlohmann::json({4, 3, 2, 2}));
  EXPECT_EQ(json["tensors"][0]["file"], "conv.weight.npy");
  EXPECT_EQ(json["tensors"][2]["name"], "fc.bias");
  EXPECT_EQ(json["tensors"][2]["shape"], nlohmann::json({3}));
  EXPECT_EQ(read_npy(dir_() / "fc.bias.npy").values, network_tensors(0.5f).storage[2]);
}

TEST_F(WeightsDirectory, ExportReplacesAPreviousExportWhole) {
  TensorSet other;
  other.add("only", {5}, 1.0f);
  export_weights(dir_(), other.views);
  EXPECT_FALSE(fs::exists(dir_() / "conv.weight.npy"));
  EXPECT_TRUE(fs::exists(dir_() / "only.npy"));
  // Nothing but the export itself is left beside it (no staging or old copies).
  EXPECT_EQ(std::distance(fs::directory_iterator(root_), fs::directory_iterator()), 1);
}

TEST_F(WeightsDirectory, ExportWithATrailingSlashWorks) {
  TensorSet other;
  other.add("only", {5}, 1.0f);
  export_weights(dir_().string() + "/", other.views);
  EXPECT_TRUE(fs::exists(dir_() / "only.npy"));
  EXPECT_EQ(std::distance(fs::directory_iterator(root_), fs::directory_iterator()), 1);
}

TEST_F(WeightsDirectory, ExportRefusesToReplaceAnUnrelatedDirectory) {
  const fs::path unrelated = root_ / "photos";
  fs::create_directories(unrelated);
  write(unrelated / "holiday.jpg", bytes_of(std::string("jpeg")));
  expect_error_containing([&] { export_weights(unrelated, network_tensors(0).views); },
                          "is not a normlab weights export");
  EXPECT_TRUE(fs::exists(unrelated / "holiday.jpg"));
  EXPECT_EQ(std::distance(fs::directory_iterator(root_), fs::directory_iterator()), 2);
}

TEST_F(WeightsDirectory, ExportRefusesNamesThatAreNotFileNames) {
  TensorSet bad;
  bad.add("../escape", {1}, 0);
  expect_error_containing([&] { export_weights(root_ / "w2", bad.views); },
                          "tensor name '../escape' cannot be used as a file name");
  EXPECT_FALSE(fs::exists(root_ / "w2"));
}

TEST_F(WeightsDirectory, ImportAcceptsNumpyVersion2File) {
  write(dir_() / "fc.weight.npy", bytes_of(kNumpy2x3Version2));
  TensorSet destination = network_tensors(-7.0f);
  import_weights(dir_(), destination.views);
  EXPECT_EQ(destination.storage[1],
            std::vector<float>(std::begin(kNumpy2x3Values), std::end(kNumpy2x3Values)));
}

TEST_F(WeightsDirectory, RefusesMissingManifest) {
  fs::remove(dir_() / "manifest.json");
  expect_import_refused("manifest.json: cannot open: No such file or directory");
}

TEST_F(WeightsDirectory, RefusesUnparseableManifest) {
  write(dir_() / "manifest.json", bytes_of(std::string("{\"format\": \"normlab-weights\",")));
  expect_import_refused("manifest.json: not valid JSON");
}

TEST_F(WeightsDirectory, RefusesWrongManifestFormatOrVersion) {
  auto json = manifest();
  json["format"] = "something-else";
  write_manifest(json);
  expect_import_refused("format is \"something-else\", expected \"normlab-weights\"");
  json = manifest();
  json["format"] = "normlab-weights";
  json["version"] = 2;
  write_manifest(json);
  expect_import_refused("version is 2, this build reads version 1");
}

TEST_F(WeightsDirectory, RefusesTensorMissingFromManifest) {
  auto json = manifest();
  json["tensors"].erase(1);
  write_manifest(json);
  expect_import_refused("manifest.json: tensor 'fc.weight' is missing");
}

TEST_F(WeightsDirectory, RefusesMissingTensorFile) {
  fs::remove(dir_() / "fc.weight.npy");
  expect_import_refused("fc.weight.npy: cannot open: No such file or directory");
}

TEST_F(WeightsDirectory, RefusesShapeMismatchInManifest) {
  TensorSet destination;
  destination.add("conv.weight", {4, 3, 2, 2}, -7.0f);
  destination.add("fc.weight", {3, 2}, -7.0f);
  destination.add("fc.bias", {3}, -7.0f);
  expect_import_refused("tensor 'fc.weight' has shape (2, 3), expected (3, 2)",
                        std::move(destination));
}

TEST_F(WeightsDirectory, RefusesShapeMismatchInNpyFile) {
  const std::int64_t shape[] = {6};
  write_npy(dir_() / "fc.weight.npy", shape, kNumpy2x3Values);
  expect_import_refused("fc.weight.npy: shape is (6,), expected (2, 3) for tensor 'fc.weight'");
}

TEST_F(WeightsDirectory, RefusesFloat64File) {
  write(dir_() / "fc.weight.npy", bytes_of(kNumpy2x3Float64));
  expect_import_refused("fc.weight.npy: dtype is '<f8', expected '<f4'");
}

TEST_F(WeightsDirectory, RefusesFortranOrderFile) {
  write(dir_() / "fc.weight.npy", bytes_of(kNumpy2x3Fortran));
  expect_import_refused("fc.weight.npy: array is in Fortran order");
}

TEST_F(WeightsDirectory, RefusesFileShorterThanItsHeaderSays) {
  auto bytes = read_file(dir_() / "fc.weight.npy");
  bytes.resize(bytes.size() - 4);
  write(dir_() / "fc.weight.npy", bytes);
  expect_import_refused("fc.weight.npy: data is 20 bytes but shape (2, 3) of '<f4' needs 24");
}

TEST_F(WeightsDirectory, RefusesFileLongerThanItsHeaderSays) {
  auto bytes = read_file(dir_() / "fc.weight.npy");
  bytes.resize(bytes.size() + 4);
  write(dir_() / "fc.weight.npy", bytes);
  expect_import_refused("fc.weight.npy: data is 28 bytes but shape (2, 3) of '<f4' needs 24");
}

TEST_F(WeightsDirectory, RefusesBadMagic) {
  auto bytes = read_file(dir_() / "fc.weight.npy");
  bytes[0] = std::byte{'P'};
  write(dir_() / "fc.weight.npy", bytes);
  expect_import_refused("fc.weight.npy: not a .npy file (bad magic)");
}

TEST_F(WeightsDirectory, RefusesUnknownNpyVersion) {
  auto bytes = read_file(dir_() / "fc.weight.npy");
  bytes[6] = std::byte{9};
  write(dir_() / "fc.weight.npy", bytes);
  expect_import_refused("fc.weight.npy: unsupported .npy version 9.0");
}

TEST_F(WeightsDirectory, RefusesUnexpectedExtraTensor) {
  auto json = manifest();
  json["tensors"].push_back({{"name", "extra"}, {"shape", {3}}, {"file", "fc.bias.npy"}});
  write_manifest(json);
  expect_import_refused("manifest.json: unexpected tensor 'extra'");
}

TEST_F(WeightsDirectory, RefusesFileOutsideTheDirectory) {
  auto json = manifest();
  json["tensors"][1]["file"] = "../fc.weight.npy";
  write_manifest(json);
  expect_import_refused("names file '../fc.weight.npy', which is not a plain file name");
}

}  // namespace
}  // namespace normlab
