// Writing a file so that readers never see it half-written: the content goes to a temporary
// file in the destination's directory, which is renamed over the destination only when complete.
#pragma once

#include <filesystem>
#include <string_view>

namespace normlab {

class PendingFile {
 public:
  // Creates the (empty) temporary file; throws normlab::Error naming `destination` if it cannot.
  explicit PendingFile(const std::filesystem::path& destination);
  ~PendingFile();  // removes the temporary file unless commit() succeeded
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;

  const std::filesystem::path& temp_path() const { return temp_; }
  const std::filesystem::path& destination() const { return destination_; }

  // Moves the finished temporary file over the destination.
  void commit();

 private:
  std::filesystem::path destination_;
  std::filesystem::path temp_;
  bool committed_ = false;
};

// The whole text, atomically.
void write_text_file(const std::filesystem::path& destination, std::string_view text);

}  // namespace normlab
