// How --help looks: options under their group's heading, each described in lines wrapped to the
// terminal (terminal_width()), types by name only ("{seed,s8,s8-plain}", not
// "TEXT:{seed,s8,s8-plain}"), without CLI11's "Excludes:" and "Needs:" lists (a group's heading
// or the description says what goes together). An option whose name another option's text
// shows ("--tta / --no-tta") has no line of its own: the pair is one line.
#pragma once

#include <CLI/CLI.hpp>

namespace normlab::cli {

class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override;
  // One blank line between groups, none doubled.
  std::string make_group(std::string group, bool is_positional, std::vector<const CLI::Option*> opts) const override;
  std::string make_usage(const CLI::App* app, std::string name) const override;
  std::string make_positionals(const CLI::App* app) const override;
  std::string make_option(const CLI::Option* option, bool is_positional) const override;
  std::string make_subcommand(const CLI::App* command) const override;
  std::string make_option_opts(const CLI::Option* option) const override;
};

// Words of `text` in lines of at most `width` columns (a longer word gets a line of its own).
std::string wrap_words(const std::string& text, std::size_t width);

}  // namespace normlab::cli
