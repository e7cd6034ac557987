// The weights directory built from .npy files: export, import, and every way an import is
// refused without touching the destination.
#include "normlab/io/weights_directory.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <numeric>

#include "io_test_support.hpp"
#include "normlab/io/atomic_file.hpp"
#include "normlab/io/npy.hpp"
#include "numpy_fixtures.hpp"

namespace normlab {
namespace {

namespace fs = std::filesystem;

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
