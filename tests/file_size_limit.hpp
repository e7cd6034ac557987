// A file size limit for one scope, to make a write fail halfway through. Permissions cannot do
// that when the tests run as root; RLIMIT_FSIZE holds for root too.
#pragma once

#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <system_error>

namespace normlab {

// While it lives, no file this process writes grows past `bytes`: the write that would fails
// with EFBIG ("File too large"). SIGXFSZ is ignored meanwhile, or it would end the process.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    if (::getrlimit(RLIMIT_FSIZE, &old_limit_) != 0)
      throw std::system_error(errno, std::generic_category(), "getrlimit(RLIMIT_FSIZE)");
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = old_limit_;
    limit.rlim_cur = bytes;
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) {
      const int error = errno;
      std::signal(SIGXFSZ, old_handler_);
      throw std::system_error(error, std::generic_category(), "setrlimit(RLIMIT_FSIZE)");
    }
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_limit_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  struct rlimit old_limit_ {};
  void (*old_handler_)(int) = SIG_DFL;
};

}  // namespace normlab
