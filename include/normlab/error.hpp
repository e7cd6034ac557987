// Errors at the boundaries (files, options, checkpoints). The message is one line that names
// the thing at fault and what is wrong with it; the CLI prints it and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace normlab {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Bad user input on the command line: the CLI exits with code 2.
struct UsageError : Error {
  using Error::Error;
};

}  // namespace normlab
