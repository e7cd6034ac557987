// The one line a command-line mistake gets: which command, what is wrong, the likely fix, and
// where that command's options are listed.
//   normlab train: error: unknown option --nrom (did you mean --norm?) (see normlab train --help)
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace normlab::cli {

// The line for a ParseError that app.parse(argc, argv) threw, without its newline.
std::string usage_error_line(const CLI::App& app, const CLI::ParseError& error, int argc, char** argv);

}  // namespace normlab::cli
