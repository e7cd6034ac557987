// The checkpoint container: what is saved loads back exactly, and a damaged file is refused
// with a message that says how it is damaged.
#include "normlab/io/checkpoint_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <numeric>

#include "normlab/io/atomic_file.hpp"
#include "file_size_limit.hpp"
#include "io_test_support.hpp"
#include "normlab/base/error.hpp"

namespace normlab {
namespace {

namespace fs = std::filesystem;

// Plain, non-atomic write: the tests below write hundreds of damaged files.
void write_plainly(const fs::path& path, std::span<const std::byte> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good());
}

class CheckpointFile : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() /
            ("normlab-checkpoint-test-" + std::to_string(::getpid()) + "-" + test->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    path_ = root_ / "run.ckpt";

    parameters_.resize(1000);
    std::iota(parameters_.begin(), parameters_.end(), -1.25f);
    optimizer_state_ = {std::byte{1}, std::byte{2}, std::byte{0}, std::byte{255}};
    metadata_ = {{"net", "seed"},
                 {"norm", "group"},
                 {"batch_size", 128},
                 {"epoch", 3},
                 {"rng", {{"counter", 12345678901234ull}}},
                 {"metrics", {{"train_loss", 1.5}}}};
    save_checkpoint(path_, metadata_, blobs());
    saved_ = read_file(path_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::vector<CheckpointBlob> blobs() const {
    return {{"parameters", std::as_bytes(std::span(parameters_))},
            {"optimizer", optimizer_state_},
            {"empty", {}}};
  }
  std::size_t metadata_length() const {
    std::size_t length = 0;
    for (int i = 0; i < 8; ++i) length |= std::to_integer<std::size_t>(saved_[20 + i]) << (8 * i);
    return length;
  }
  void expect_load_refused(std::span<const std::byte> bytes, const std::string& fragment) {
    const fs::path damaged = root_ / "damaged.ckpt";
    write_plainly(damaged, bytes);
    expect_error_containing([&] { load_checkpoint(damaged); }, fragment);
  }

  fs::path root_, path_;
  std::vector<float> parameters_;
  std::vector<std::byte> optimizer_state_;
  nlohmann::json metadata_;
  std::vector<std::byte> saved_;
};

TEST_F(CheckpointFile, RoundTripsMetadataAndBlobs) {
  const LoadedCheckpoint loaded = load_checkpoint(path_);
  for (const auto& [key, value] : metadata_.items()) EXPECT_EQ(loaded.metadata[key], value) << key;
  EXPECT_EQ(loaded.metadata["blobs"], nlohmann::json::parse(R"([{"name":"parameters","bytes":4000},
                                      {"name":"optimizer","bytes":4},
                                      {"name":"empty","bytes":0}])"));
  const auto parameters = loaded.blob("parameters");
  ASSERT_EQ(parameters.size(), parameters_.size() * sizeof(float));
  EXPECT_EQ(std::memcmp(parameters.data(), parameters_.data(), parameters.size()), 0);
  const auto optimizer = loaded.blob("optimizer");
  EXPECT_EQ(std::vector<std::byte>(optimizer.begin(), optimizer.end()), optimizer_state_);
  EXPECT_TRUE(loaded.blob("empty").empty());
}

TEST_F(CheckpointFile, MissingBlobIsNamed) {
  const LoadedCheckpoint loaded = load_checkpoint(path_);
  expect_error_containing([&] { loaded.blob("momentum"); },
                          "run.ckpt: checkpoint has no blob 'momentum'");
}

TEST_F(CheckpointFile, LayoutIsTheDocumentedOne) {
  ASSERT_GT(saved_.size(), 28u);
  EXPECT_EQ(std::memcmp(saved_.data(), "NORMLAB-CKPT\0\0\0\0", 16), 0);
  EXPECT_EQ(saved_[16], std::byte{kCheckpointVersion});
  EXPECT_EQ(saved_.size(), 28 + metadata_length() + 4000 + 4 + 0 + 4);
  // The first blob starts right after the metadata.
  EXPECT_EQ(std::memcmp(saved_.data() + 28 + metadata_length(), parameters_.data(), 4000), 0);
}

TEST_F(CheckpointFile, RefusesTruncatedFileAtEveryKindOfCut) {
  const std::size_t metadata_end = 28 + metadata_length();
  for (std::size_t cut :
       {std::size_t{0}, std::size_t{10}, std::size_t{16}, std::size_t{27}, std::size_t{31},
        std::size_t{40}, metadata_end - 1, metadata_end, metadata_end + 2000, saved_.size() - 5,
        saved_.size() - 4, saved_.size() - 1}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    expect_load_refused(std::span(saved_).first(cut), "truncated");
  }
}

TEST_F(CheckpointFile, RefusesFlippedByteInBlobsOrCrcAsCorrupt) {
  const std::size_t metadata_end = 28 + metadata_length();
  for (std::size_t position :
       {metadata_end, metadata_end + 1234, saved_.size() - 6, saved_.size() - 1}) {
    SCOPED_TRACE("flip at " + std::to_string(position));
    auto damaged = saved_;
    damaged[position] ^= std::byte{0x10};
    expect_load_refused(damaged, "corrupt");
  }
}

TEST_F(CheckpointFile, RefusesEveryFlippedByteInHeaderAndMetadata) {
  for (std::size_t position = 0; position < 28 + metadata_length(); ++position) {
    auto damaged = saved_;
    damaged[position] ^= std::byte{0x01};
    write_plainly(root_ / "damaged.ckpt", damaged);
    EXPECT_THROW(load_checkpoint(root_ / "damaged.ckpt"), Error) << "flip at " << position;
  }
}

TEST_F(CheckpointFile, RefusesWrongMagic) {
  auto damaged = saved_;
  damaged[0] = std::byte{'X'};
  expect_load_refused(damaged, "damaged.ckpt: not a normlab checkpoint (wrong magic)");
  const std::string npy = "\x93NUMPY\x01\x00";
  expect_load_refused(std::as_bytes(std::span(npy.data(), npy.size())), "wrong magic");
}

TEST_F(CheckpointFile, RefusesOtherFormatVersionSayingWhichOne) {
  auto damaged = saved_;
  damaged[16] = std::byte{2};
  expect_load_refused(damaged, "checkpoint format version 2, this build supports version 1");
}

TEST_F(CheckpointFile, RefusesReservedOrDuplicateNames) {
  expect_error_containing(
      [&] {
        save_checkpoint(root_ / "x.ckpt", {{"blobs", 1}}, {});
      },
      "must not set 'blobs'");
  const CheckpointBlob twice[] = {{"a", optimizer_state_}, {"a", optimizer_state_}};
  expect_error_containing([&] { save_checkpoint(root_ / "x.ckpt", metadata_, twice); },
                          "checkpoint blob 'a' appears twice");
  EXPECT_FALSE(fs::exists(root_ / "x.ckpt"));
}

TEST_F(CheckpointFile, FailedSaveLeavesTheOldCheckpointLoadable) {
  {
    const FileSizeLimit limit(1024);
    std::vector<float> bigger(5000, 9.0f);
    const CheckpointBlob blobs[] = {{"parameters", std::as_bytes(std::span(bigger))}};
    expect_error_containing([&] { save_checkpoint(path_, metadata_, blobs); }, "cannot write");
  }

  EXPECT_EQ(read_file(path_), saved_);
  EXPECT_NO_THROW(load_checkpoint(path_));
  EXPECT_EQ(std::distance(fs::directory_iterator(root_), fs::directory_iterator()), 1)
      << "the temporary file was left behind";
}

}  // namespace
}  // namespace normlab
