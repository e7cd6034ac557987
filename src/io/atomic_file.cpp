#include "normlab/io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <system_error>

#include "normlab/base/error.hpp"

namespace normlab {

std::string errno_text() { return std::error_code(errno, std::generic_category()).message(); }

namespace {

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
      fail(path, "cannot write: " + errno_text());
    }
    bytes = bytes.subspan(static_cast<std::size_t>(written));
  }
}

// A name no other writer (thread or process) uses at the same moment; O_EXCL enforces it.
// Hidden, so listings do not show work in progress.
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

// Creates a fresh temporary next to `path` and returns it with its open descriptor.
std::pair<std::filesystem::path, int> create_temporary(const std::filesystem::path& path) {
  if (!path.has_filename()) fail(path, "cannot write: the path names no file");
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::filesystem::path temporary = temporary_sibling(path, attempt);
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) return {temporary, fd};
    if (errno != EEXIST)
      fail(path, "cannot create temporary file " + temporary.string() + ": " + errno_text());
  }
  fail(path, "cannot find a free temporary file name next to it");
}

// The end every writer shares: flush the complete temporary, rename it over `path`, flush the
// directory. The caller removes the temporary if this throws.
void commit(FileDescriptor& file, const std::filesystem::path& temporary,
            const std::filesystem::path& path) {
  if (::fsync(file.get()) != 0) fail(path, "cannot flush to disk: " + errno_text());
  if (file.close() != 0) fail(path, "cannot close after writing: " + errno_text());
  if (::rename(temporary.c_str(), path.c_str()) != 0)
    fail(path, "cannot replace with the new contents: " + errno_text());
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  const std::span<const std::byte> pieces[] = {bytes};
  write_file_atomically(path, pieces);
}

void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
  write_file_atomically(path, std::as_bytes(std::span(text.data(), text.size())));
}

void write_file_atomically(const std::filesystem::path& path,
                           std::span<const std::span<const std::byte>> pieces) {
  const auto [temporary, fd] = create_temporary(path);
  FileDescriptor file(fd);
  try {
    for (auto piece : pieces) write_all(file.get(), piece, path);
    commit(file, temporary, path);
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }
  sync_directory(directory_of(path));
}

void write_file_atomically_via(const std::filesystem::path& path,
                               const std::function<void(const std::filesystem::path&)>& write_to) {
  const auto [temporary, fd] = create_temporary(path);
  ::close(fd);  // the library opens the path itself
  try {
    write_to(temporary);
    FileDescriptor file(::open(temporary.c_str(), O_RDONLY | O_CLOEXEC));
    if (file.get() < 0) fail(path, "cannot reopen what was written: " + errno_text());
    commit(file, temporary, path);
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }
  sync_directory(directory_of(path));
}

std::vector<std::byte> read_file(const std::filesystem::path& path) {
  FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) fail(path, "cannot open: " + errno_text());

  struct stat status {};
  if (::fstat(file.get(), &status) != 0) fail(path, "cannot stat: " + errno_text());
  if (!S_ISREG(status.st_mode)) fail(path, "cannot read: not a regular file");

  std::vector<std::byte> bytes(static_cast<std::size_t>(status.st_size));
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    ssize_t got = ::read(file.get(), bytes.data() + filled, bytes.size() - filled);
    if (got < 0) {
      if (errno == EINTR) continue;
      fail(path, "cannot read: " + errno_text());
    }
    if (got == 0) fail(path, "cannot read: the file shrank while being read");
    filled += static_cast<std::size_t>(got);
  }
  return bytes;
}

void sync_directory(const std::filesystem::path& dir) {
  FileDescriptor directory(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory.get() < 0) fail(dir, "cannot open directory to flush it: " + errno_text());
  if (::fsync(directory.get()) != 0) fail(dir, "cannot flush directory: " + errno_text());
}

}  // namespace normlab
