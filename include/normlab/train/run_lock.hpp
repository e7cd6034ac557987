// Who owns a run directory. A process that trains in DIR holds an advisory lock (flock) on
// the empty file DIR/.lock; whoever is refused learns the holder's PID from the kernel
// (/proc/locks). The kernel drops the lock when the process dies, even by kill -9, so a stale
// lock never blocks.
#pragma once

#include <filesystem>

namespace normlab {

inline constexpr const char* kLockName = ".lock";

class RunLock {
 public:
  RunLock() = default;
  RunLock(RunLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

  // Takes the lock of DIR (creating DIR/.lock if needed) or throws an Error:
  // "DIR: in use by process 1234 (another normlab is training there)".
  static RunLock acquire(const std::filesystem::path& dir);
  bool held() const { return fd_ >= 0; }

 private:
  explicit RunLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The PID holding DIR's lock (-1 if it is held but the PID is unknown), or 0 when nobody holds it.
long run_lock_holder(const std::filesystem::path& dir);

}  // namespace normlab
