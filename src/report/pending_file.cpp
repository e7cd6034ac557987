#include "pending_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "normlab/error.hpp"

namespace normlab {
namespace {

// Unique per process and per call, so concurrent writers never share a temporary file.
std::filesystem::path temp_path_for(const std::filesystem::path& destination) {
  static std::atomic<unsigned> counter{0};
  std::string name = ".";  // hidden, so directory listings do not show work in progress
  name += destination.filename().string();
  name += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  return destination.parent_path() / name;
}

}  // namespace

PendingFile::PendingFile(const std::filesystem::path& destination)
    : destination_(destination), temp_(temp_path_for(destination)) {
  int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    throw Error(destination_.string() + ": cannot write (" + std::strerror(errno) + ")");
  }
  ::close(fd);
}

PendingFile::~PendingFile() {
  if (!committed_) {
    std::error_code ignored;
    std::filesystem::remove(temp_, ignored);
  }
}

void PendingFile::commit() {
  if (::rename(temp_.c_str(), destination_.c_str()) != 0) {
    throw Error(destination_.string() + ": cannot replace (" + std::strerror(errno) + ")");
  }
  committed_ = true;
}

void write_text_file(const std::filesystem::path& destination, std::string_view text) {
  PendingFile file(destination);
  {
    std::ofstream out(file.temp_path(), std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) throw Error(destination.string() + ": cannot write (write failed)");
  }
  file.commit();
}

}  // namespace normlab
