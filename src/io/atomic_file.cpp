#include "normlab/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <system_error>

#include "normlab/error.hpp"

namespace normlab {
namespace {

std::string describe_errno() {
  return std::error_code(errno, std::generic_category()).message();
}

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw Error(path.string() + ": " + what);
}

// Closes the descriptor on every path out of a function.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closing can report a delayed write error, so the writer checks it explicitly.
  int close() {
    int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

void write_all(int fd, std::span<const std::byte> bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      fail(path, "cannot write: " + describe_errno());
    }
    bytes = bytes.subspan(static_cast<std::size_t>(written));
  }
}

// A name no other writer (thread or process) uses at the same moment; O_EXCL enforces it.
std::filesystem::path temporary_sibling(const std::filesystem::path& path, int attempt) {
  static std::atomic<unsigned> counter{0};
  // Built by appending: "literal" + std::string trips a false -Wrestrict in g++ 12.
  std::string name = ".";
  name += path.filename().string();
  name += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
          std::to_string(attempt);
  return path.parent_path() / name;
}

std::filesystem::path directory_of(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  const std::span<const std::byte> pieces[] = {bytes};
  write_file_atomically(path, pieces);
}

void write_file_atomically(const std::filesystem::path& path,
                           std::span<const std::span<const std::byte>> pieces) {
  if (!path.has_filename()) fail(path, "cannot write: the path names no file");

  std::filesystem::path temporary;
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 100; ++attempt) {
    temporary = temporary_sibling(path, attempt);
    fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) {
      fail(path, "cannot create temporary file " + temporary.string() + ": " + describe_errno());
    }
  }
  if (fd < 0) fail(path, "cannot find a free temporary file name next to it");

  FileDescriptor file(fd);
  try {
    for (auto piece : pieces) write_all(file.get(), piece, path);
    if (::fsync(file.get()) != 0) fail(path, "cannot flush to disk: " + describe_errno());
    if (file.close() != 0) fail(path, "cannot close after writing: " + describe_errno());
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
      fail(path, "cannot replace with the new contents: " + describe_errno());
    }
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }
  sync_directory(directory_of(path));
}

std::vector<std::byte> read_file(const std::filesystem::path& path) {
  FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) fail(path, "cannot open: " + describe_errno());

  struct stat status {};
  if (::fstat(file.get(), &status) != 0) fail(path, "cannot stat: " + describe_errno());
  if (!S_ISREG(status.st_mode)) fail(path, "cannot read: not a regular file");

  std::vector<std::byte> bytes(static_cast<std::size_t>(status.st_size));
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    ssize_t got = ::read(file.get(), bytes.data() + filled, bytes.size() - filled);
    if (got < 0) {
      if (errno == EINTR) continue;
      fail(path, "cannot read: " + describe_errno());
    }
    if (got == 0) fail(path, "cannot read: the file shrank while being read");
    filled += static_cast<std::size_t>(got);
  }
  return bytes;
}

void sync_directory(const std::filesystem::path& dir) {
  FileDescriptor directory(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory.get() < 0) fail(dir, "cannot open directory to flush it: " + describe_errno());
  if (::fsync(directory.get()) != 0) fail(dir, "cannot flush directory: " + describe_errno());
}

}  // namespace normlab
