// Whole-file writes that either fully happen or leave the old file as it was.
#include "normlab/io/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_size_limit.hpp"
#include "io_test_support.hpp"
#include "normlab/base/error.hpp"

namespace normlab {
namespace {

namespace fs = std::filesystem;

class AtomicFile : public ScratchDirectory {
 protected:
  void TearDown() override {
    // Some tests take the write permission away; give it back so the directory can go.
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add);
    ScratchDirectory::TearDown();
  }
  std::size_t entries_in_root() const {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(root_), fs::directory_iterator()));
  }
};

TEST_F(AtomicFile, WritesAndReplacesContents) {
  const fs::path path = root_ / "a.bin";
  write_file_atomically(path, bytes_of("first version"));
  EXPECT_EQ(read_file(path), bytes_of("first version"));
  write_file_atomically(path, bytes_of("second"));
  EXPECT_EQ(read_file(path), bytes_of("second"));
  EXPECT_EQ(entries_in_root(), 1u) << "a temporary file was left behind";
}

TEST_F(AtomicFile, WritesPiecesBackToBack) {
  const auto head = bytes_of("head-"), body = bytes_of("body-"), tail = bytes_of("tail");
  const std::span<const std::byte> pieces[] = {head, body, {}, tail};
  write_file_atomically(root_ / "p.bin", pieces);
  EXPECT_EQ(read_file(root_ / "p.bin"), bytes_of("head-body-tail"));
}

TEST_F(AtomicFile, WritesAnEmptyFile) {
  write_file_atomically(root_ / "empty", std::span<const std::byte>());
  EXPECT_TRUE(read_file(root_ / "empty").empty());
}

TEST_F(AtomicFile, ReadNamesTheMissingPath) {
  expect_error_containing(
      [&] { read_file(root_ / "nope.bin"); },
      (root_ / "nope.bin").string() + ": cannot open: No such file or directory");
  expect_error_containing([&] { read_file(root_); }, "not a regular file");
}

TEST_F(AtomicFile, PathThatIsADirectoryIsLeftAlone) {
  const fs::path dir = root_ / "target";
  fs::create_directories(dir);
  write_file_atomically(dir / "inside", bytes_of("keep me"));
  expect_error_containing([&] { write_file_atomically(dir, bytes_of("x")); },
                          dir.string() + ": cannot replace with the new contents");
  EXPECT_EQ(read_file(dir / "inside"), bytes_of("keep me"));
  EXPECT_EQ(entries_in_root(), 1u) << "a temporary file was left behind";
}

TEST_F(AtomicFile, MissingDirectoryIsReported) {
  expect_error_containing([&] { write_file_atomically(root_ / "no" / "f", bytes_of("x")); },
                          "cannot create temporary file");
}

TEST_F(AtomicFile, UnwritableDirectoryLeavesTheOldFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only directories anyway";
  const fs::path path = root_ / "a.bin";
  write_file_atomically(path, bytes_of("old"));
  fs::permissions(root_, fs::perms::owner_read | fs::perms::owner_exec);
  expect_error_containing([&] { write_file_atomically(path, bytes_of("new")); },
                          "Permission denied");
  fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add);
  EXPECT_EQ(read_file(path), bytes_of("old"));
}

TEST_F(AtomicFile, WriteFailingHalfwayLeavesTheOldFile) {
  const fs::path path = root_ / "a.bin";
  write_file_atomically(path, bytes_of("old"));
  {
    const FileSizeLimit limit(100);
    const std::vector<std::byte> big(1000, std::byte{7});
    expect_error_containing([&] { write_file_atomically(path, big); },
                            "cannot write: File too large");
  }
  EXPECT_EQ(read_file(path), bytes_of("old"));
  EXPECT_EQ(entries_in_root(), 1u) << "a temporary file was left behind";
}

}  // namespace
}  // namespace normlab
