#include "normlab/data/cifar10.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "normlab/base/error.hpp"

namespace normlab {
namespace {

namespace fs = std::filesystem;

constexpr int kSmallRecords = 4;  // records per generated file
const char* const kBatches[] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
const char* const kNames = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";

void write_file(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// File f's records: label (f + i) % 10, pixels a pattern that tells file and record apart.
std::vector<std::uint8_t> batch_bytes(int f, int records) {
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(records) * kRecordBytes);
  for (int i = 0; i < records; ++i) {
    std::uint8_t* record = bytes.data() + static_cast<std::size_t>(i) * kRecordBytes;
    record[0] = static_cast<std::uint8_t>((f + i) % kClasses);
    for (int p = 0; p < kImageBytes; ++p) record[1 + p] = static_cast<std::uint8_t>(f * 50 + i + p);
  }
  return bytes;
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

// A complete small dataset in a fresh temporary directory, removed afterwards.
class SmallDataset : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("normlab_cifar10_" + std::to_string(getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (int f = 0; f < 6; ++f) write_file(dir_ / kBatches[f], batch_bytes(f, kSmallRecords));
    write_text(dir_ / "batches.meta.txt", kNames);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The one-line message load() throws, or "" if it succeeds.
  std::string load_error(const fs::path& dir) {
    try {
      Cifar10::load(dir, kSmallRecords);
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
      return e.what();
    }
    return "";
  }

  // Expects load() to refuse `dir` with a one-line message holding every one of `fragments`.
  void expect_refused(const fs::path& dir, std::initializer_list<std::string> fragments) {
    const std::string error = load_error(dir);
    for (const std::string& fragment : fragments) EXPECT_CONTAINS(error, fragment);
  }

  fs::path dir_;
};

TEST_F(SmallDataset, LoadsAllSixFilesIntoOneBuffer) {
  const Cifar10 data = Cifar10::load(dir_, kSmallRecords);
  EXPECT_EQ(data.train().count, 5 * kSmallRecords);
  EXPECT_EQ(data.test().count, kSmallRecords);
  EXPECT_EQ(data.bytes(), std::size_t{6} * kSmallRecords * kRecordBytes);
  EXPECT_EQ(data.test().records, data.train().records + 5 * kSmallRecords * kRecordBytes);
  ASSERT_EQ(data.class_names().size(), 10u);
  EXPECT_EQ(data.class_names().front(), "airplane");
  EXPECT_EQ(data.class_names().back(), "truck");

  // Record 1 of data_batch_2 is training image kSmallRecords + 1.
  const int i = kSmallRecords + 1;
  EXPECT_EQ(data.train().label(i), (1 + 1) % kClasses);
  EXPECT_EQ(data.train().pixels(i)[0], 1 * 50 + 1);
  EXPECT_EQ(data.train().pixels(i)[kImageBytes - 1], static_cast<std::uint8_t>(51 + kImageBytes - 1));
  EXPECT_EQ(data.test().label(0), 5);
}

TEST_F(SmallDataset, SubViewsTakeTheFirstAndLastRecords) {
  const Cifar10 data = Cifar10::load(dir_, kSmallRecords);
  const ImageSet head = data.train().first(3);
  const ImageSet tail = data.train().last(2);
  EXPECT_EQ(head.count, 3);
  EXPECT_EQ(head.records, data.train().records);
  EXPECT_EQ(tail.count, 2);
  EXPECT_EQ(tail.pixels(1), data.train().pixels(data.train().count - 1));
  EXPECT_EQ(data.train().first(1000).count, data.train().count);
  EXPECT_EQ(data.train().last(-1).count, 0);
}

TEST_F(SmallDataset, ToleratesBlankLinesInClassNames) {
  write_text(dir_ / "batches.meta.txt", std::string(kNames) + "\n\n");
  EXPECT_EQ(Cifar10::load(dir_, kSmallRecords).class_names().size(), 10u);
}

TEST_F(SmallDataset, RejectsMissingDirectory) {
  expect_refused(dir_ / "nowhere", {"nowhere", "no such directory"});
}

TEST_F(SmallDataset, RejectsEmptyDirectory) {
  fs::create_directory(dir_ / "empty");
  expect_refused(dir_ / "empty", {"empty", "directory is empty"});
}

TEST_F(SmallDataset, RejectsMissingBatchFile) {
  fs::remove(dir_ / "data_batch_3.bin");
  expect_refused(dir_, {"data_batch_3.bin", "missing file"});
}

TEST_F(SmallDataset, RejectsTruncatedFileAndSaysItsSize) {
  fs::resize_file(dir_ / "test_batch.bin", kSmallRecords * kRecordBytes - 100);
  expect_refused(dir_, {"test_batch.bin", std::to_string(kSmallRecords * kRecordBytes - 100),
                        "not a multiple"});
}

TEST_F(SmallDataset, RejectsEmptyBatchFile) {
  fs::resize_file(dir_ / "data_batch_1.bin", 0);
  expect_refused(dir_, {"data_batch_1.bin", "empty"});
}

TEST_F(SmallDataset, RejectsWrongRecordCount) {
  write_file(dir_ / "data_batch_4.bin", batch_bytes(3, kSmallRecords + 1));
  expect_refused(dir_, {"data_batch_4.bin", "holds 5 records, expected 4"});
}

TEST_F(SmallDataset, OfficialLoaderRequiresTenThousandRecordsPerFile) {
  try {
    Cifar10::load(dir_);
    FAIL() << "small files accepted";
  } catch (const Error& e) {
    EXPECT_CONTAINS(std::string(e.what()), "expected 10000");
  }
}

TEST_F(SmallDataset, RejectsLabelOutsideRangeAndSaysWhere) {
  std::vector<std::uint8_t> bytes = batch_bytes(1, kSmallRecords);
  bytes[2 * kRecordBytes] = 10;
  write_file(dir_ / "data_batch_2.bin", bytes);
  expect_refused(dir_, {"data_batch_2.bin", "record 2 has label 10"});
}

TEST_F(SmallDataset, RejectsMissingClassNames) {
  fs::remove(dir_ / "batches.meta.txt");
  expect_refused(dir_, {"batches.meta.txt", "missing file"});
}

TEST_F(SmallDataset, RejectsWrongNumberOfClassNames) {
  write_text(dir_ / "batches.meta.txt", "airplane\nautomobile\nbird\n");
  expect_refused(dir_, {"batches.meta.txt", "holds 3 class names, expected 10"});
}

TEST_F(SmallDataset, ValuesMoveWithoutInvalidatingViews) {
  Cifar10 data = Cifar10::load(dir_, kSmallRecords);
  const std::uint8_t* records = data.train().records;
  const Cifar10 moved = std::move(data);
  EXPECT_EQ(moved.train().records, records);
}

TEST(ResolveDataDir, PrefersOptionThenEnvironmentThenDefault) {
  const char* saved = std::getenv("NORMLAB_DATA");
  const std::string saved_value = saved ? saved : "";

  setenv("NORMLAB_DATA", "/from/env", 1);
  EXPECT_EQ(resolve_data_dir("/from/option"), fs::path("/from/option"));
  EXPECT_EQ(resolve_data_dir(""), fs::path("/from/env"));
  unsetenv("NORMLAB_DATA");
  EXPECT_EQ(resolve_data_dir(""), fs::path("data/cifar-10-batches-bin"));

  if (saved) setenv("NORMLAB_DATA", saved_value.c_str(), 1);
}

TEST(RealCifar10, HasTheOfficialCountsLabelsAndNames) {
  const char* dir = std::getenv("NORMLAB_SHARED_DATA");
  if (dir == nullptr || !fs::is_directory(dir)) GTEST_SKIP() << "NORMLAB_SHARED_DATA not present";
  const Cifar10 data = Cifar10::load(dir);
  EXPECT_EQ(data.train().count, 50'000);
  EXPECT_EQ(data.test().count, 10'000);
  EXPECT_EQ(data.bytes(), std::size_t{60'000} * kRecordBytes);
  ASSERT_EQ(data.class_names().size(), 10u);
  EXPECT_EQ(data.class_names()[0], "airplane");
  EXPECT_EQ(data.class_names()[9], "truck");

  // Labels are 0-9 and each class appears (CIFAR-10 is balanced: 5000 and 1000 per class).
  int train_per_class[kClasses] = {}, test_per_class[kClasses] = {};
  for (int i = 0; i < data.train().count; ++i) ++train_per_class[data.train().label(i)];
  for (int i = 0; i < data.test().count; ++i) ++test_per_class[data.test().label(i)];
  for (int c = 0; c < kClasses; ++c) {
    EXPECT_EQ(train_per_class[c], 5000) << "class " << c;
    EXPECT_EQ(test_per_class[c], 1000) << "class " << c;
  }
}

}  // namespace
}  // namespace normlab
