// CIFAR-10 in its official binary layout, loaded once into one contiguous buffer. Everything
// else (batch assembly, evaluation, the gallery) reads images through ImageSet views into it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace normlab {

inline constexpr int kImageSide = 32, kImageChannels = 3, kImageBytes = 3072, kRecordBytes = 3073,
                     kClasses = 10;
// The official files each hold exactly this many records.
inline constexpr int kRecordsPerFile = 10'000;

// A view of consecutive records inside the dataset's single buffer.
struct ImageSet {
  const std::uint8_t* records = nullptr;  // count * kRecordBytes bytes
  int count = 0;

  int label(int i) const { return records[static_cast<std::size_t>(i) * kRecordBytes]; }  // 0..9
  // 3072 bytes, planar R, G, B, each 32x32 row-major.
  const std::uint8_t* pixels(int i) const {
    return records + static_cast<std::size_t>(i) * kRecordBytes + 1;
  }
  // Sub-views for --limit and --holdout; n is clamped to [0, count].
  ImageSet first(int n) const;
  ImageSet last(int n) const;
};

class Cifar10 {
 public:
  // Reads data_batch_1..5.bin, test_batch.bin and batches.meta.txt from `dir` and checks all of
  // it before returning. Throws normlab::Error naming the file and what is wrong.
  static Cifar10 load(const std::filesystem::path& dir);
  // The same with another record count per file, so tests can use small generated files.
  static Cifar10 load(const std::filesystem::path& dir, int records_per_file);

  // Views point into buffer_, which a move keeps in place; a copy would not, so none is allowed.
  Cifar10(Cifar10&&) = default;
  Cifar10& operator=(Cifar10&&) = default;
  Cifar10(const Cifar10&) = delete;
  Cifar10& operator=(const Cifar10&) = delete;

  const ImageSet& train() const { return train_; }
  const ImageSet& test() const { return test_; }
  const std::vector<std::string>& class_names() const { return names_; }  // 10 names
  std::size_t bytes() const { return buffer_.size(); }  // size of the one buffer

 private:
  Cifar10() = default;

  std::vector<std::uint8_t> buffer_;
  ImageSet train_, test_;
  std::vector<std::string> names_;
};

// The checks load() makes before reading anything: the directory, the six files' sizes and the
// class names; cheap (no records read), so a job can be refused before it is queued. Throws
// normlab::Error naming the file and what is wrong. Labels are only checked by load().
void check_cifar10_files(const std::filesystem::path& dir, int records_per_file = kRecordsPerFile);

// --data DIR, else $NORMLAB_DATA, else data/cifar-10-batches-bin (relative to the cwd).
std::filesystem::path resolve_data_dir(const std::string& option_value);

}  // namespace normlab
