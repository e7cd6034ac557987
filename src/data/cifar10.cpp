// Loading CIFAR-10: check sizes first, then read all six files into one buffer, then check
// every label, so a caller never sees a half-valid dataset.
#include "normlab/data/cifar10.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <system_error>

#include "normlab/base/error.hpp"

namespace normlab {

namespace fs = std::filesystem;

namespace {

// Training files first, then the test file: train() and test() are the two halves of the buffer.
constexpr std::array<const char*, 6> kBatchFiles = {"data_batch_1.bin", "data_batch_2.bin",
                                                    "data_batch_3.bin", "data_batch_4.bin",
                                                    "data_batch_5.bin", "test_batch.bin"};
constexpr int kTrainFiles = 5;
constexpr const char* kMetaFile = "batches.meta.txt";

// A data file must be a regular file (or a link to one); says precisely what stands there instead.
void require_regular_file(const fs::path& file) {
  std::error_code ec;
  const fs::file_status status = fs::status(file, ec);
  if (ec && ec.value() == ELOOP) fail(file, "is a symbolic link loop, not a data file");
  if (!fs::exists(status)) {
    if (fs::is_symlink(fs::symlink_status(file, ec))) fail(file, "is a dangling symbolic link");
    fail(file, "missing file");
  }
  if (fs::is_directory(status)) fail(file, "is a directory, not a data file");
  if (fs::is_fifo(status)) fail(file, "is a FIFO, not a data file");
  if (!fs::is_regular_file(status)) fail(file, "is not a regular file");
}

void check_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec))
    fail(dir, "no such directory (pass --data DIR, set NORMLAB_DATA, or run data/fetch-cifar10)");
  if (!fs::is_directory(dir, ec)) fail(dir, "not a directory");
  if (fs::directory_iterator(dir, ec) == fs::directory_iterator()) {
    if (ec) fail(dir, "cannot list directory: " + ec.message());
    fail(dir, "directory is empty (run data/fetch-cifar10)");
  }
}

// The file's size, after checking it holds exactly `records_per_file` whole records.
std::uintmax_t checked_batch_size(const fs::path& file, int records_per_file) {
  std::error_code ec;
  require_regular_file(file);
  const std::uintmax_t size = fs::file_size(file, ec);
  if (ec) fail(file, "cannot read size: " + ec.message());
  if (size == 0) fail(file, "file is empty");
  if (size % kRecordBytes != 0)
    fail(file, fmt::format("truncated or corrupt: size {} bytes is not a multiple of the {}-byte "
                           "record",
                           size, kRecordBytes));
  const std::uintmax_t records = size / kRecordBytes;
  if (records != static_cast<std::uintmax_t>(records_per_file))
    fail(file, fmt::format("holds {} records, expected {}", records, records_per_file));
  return size;
}

void read_exactly(const fs::path& file, std::uint8_t* out, std::size_t size) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!f) fail(file, "cannot open for reading");
  if (std::fread(out, 1, size, f.get()) != size) fail(file, "read fewer bytes than its size");
}

void check_labels(const fs::path& file, const std::uint8_t* records, int count) {
  for (int i = 0; i < count; ++i) {
    const int label = records[static_cast<std::size_t>(i) * kRecordBytes];
    if (label >= kClasses)
      fail(file, fmt::format("record {} has label {}, expected 0-{}", i, label, kClasses - 1));
  }
}

// One name a line; surrounding whitespace and blank lines (the official file ends with some)
// are ignored.
std::vector<std::string> read_class_names(const fs::path& file) {
  std::error_code ec;
  require_regular_file(file);
  std::ifstream in(file);
  if (!in) fail(file, "cannot open for reading");
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    const auto begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos) continue;
    const auto end = line.find_last_not_of(" \t\r");
    names.push_back(line.substr(begin, end - begin + 1));
  }
  if (names.size() != static_cast<std::size_t>(kClasses))
    fail(file, fmt::format("holds {} class names, expected {}", names.size(), kClasses));
  return names;
}

}  // namespace

ImageSet ImageSet::first(int n) const {
  n = std::clamp(n, 0, count);
  return ImageSet{records, n};
}

ImageSet ImageSet::last(int n) const {
  n = std::clamp(n, 0, count);
  return ImageSet{records + static_cast<std::size_t>(count - n) * kRecordBytes, n};
}

void check_cifar10_files(const fs::path& dir, int records_per_file) {
  check_directory(dir);
  for (const char* name : kBatchFiles) checked_batch_size(dir / name, records_per_file);
  read_class_names(dir / kMetaFile);
}

Cifar10 Cifar10::load(const fs::path& dir) { return load(dir, kRecordsPerFile); }

Cifar10 Cifar10::load(const fs::path& dir, int records_per_file) {
  check_directory(dir);

  std::array<std::uintmax_t, kBatchFiles.size()> sizes{};
  for (std::size_t f = 0; f < kBatchFiles.size(); ++f)
    sizes[f] = checked_batch_size(dir / kBatchFiles[f], records_per_file);

  Cifar10 data;
  data.names_ = read_class_names(dir / kMetaFile);

  std::size_t total = 0;
  for (auto s : sizes) total += s;
  data.buffer_.resize(total);

  std::size_t offset = 0, test_offset = 0;
  for (std::size_t f = 0; f < kBatchFiles.size(); ++f) {
    const fs::path file = dir / kBatchFiles[f];
    if (f == kTrainFiles) test_offset = offset;
    std::uint8_t* records = data.buffer_.data() + offset;
    read_exactly(file, records, sizes[f]);
    check_labels(file, records, records_per_file);
    offset += sizes[f];
  }

  const std::uint8_t* base = data.buffer_.data();
  data.train_ = ImageSet{base, kTrainFiles * records_per_file};
  data.test_ = ImageSet{base + test_offset, records_per_file};
  return data;
}

fs::path resolve_data_dir(const std::string& option_value) {
  if (!option_value.empty()) return option_value;
  if (const char* env = std::getenv("NORMLAB_DATA"); env != nullptr && env[0] != '\0') return env;
  return fs::path("data") / "cifar-10-batches-bin";
}

}  // namespace normlab
