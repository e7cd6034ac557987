#include "normlab/train/run_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "normlab/base/error.hpp"

namespace normlab {

namespace {

// The kernel's own record of who holds a flock (/proc/locks), so the lock file is never
// written: taking the lock changes no byte in the run directory.
long flock_holder(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return -1;
  char device[32];
  std::snprintf(device, sizeof device, "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev),
                static_cast<unsigned long>(st.st_ino));
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    std::istringstream fields(line);
    std::string number, kind, mode, access, pid, where;
    fields >> number >> kind;
    if (kind == "->") fields >> kind;  // a waiter's line
    fields >> mode >> access >> pid >> where;
    if (kind == "FLOCK" && where == device) return std::strtol(pid.c_str(), nullptr, 10);
  }
  return -1;
}

}  // namespace

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

RunLock RunLock::acquire(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / kLockName;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) fail(dir, "cannot open its lock file " + file.string() + ": " + errno_text());
  RunLock lock(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) fail(dir, "cannot lock " + file.string() + ": " + errno_text());
    const long pid = flock_holder(fd);
    fail(dir, "in use by process " + (pid > 0 ? std::to_string(pid) : std::string("unknown")) +
                  " (another normlab is training there)");
  }
  return lock;
}

long run_lock_holder(const std::filesystem::path& dir) {
  const int fd = ::open((dir / kLockName).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  long holder = 0;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    holder = flock_holder(fd);
  } else {
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return holder;
}

}  // namespace normlab
