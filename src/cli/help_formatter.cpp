#include "help_formatter.hpp"

#include <algorithm>
#include <sstream>

#include "normlab/train/terminal_width.hpp"

namespace normlab::cli {

std::string wrap_words(const std::string& text, std::size_t width) {
  std::istringstream words(text);
  std::string word, wrapped, line;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      wrapped += line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  return wrapped + line;
}

namespace {
// Whether another option's line shows this one ("--tta / --no-tta" shows --no-tta).
bool shown_on_another_line(const CLI::App& app, const CLI::Option& option) {
  const std::string name = option.get_name(false, false);
  for (const CLI::Option* other : app.get_options()) {
    const std::string& text = other->get_option_text();
    if (other != &option && text.size() >= name.size() + 2 &&
        text.compare(text.size() - name.size() - 2, std::string::npos, "/ " + name) == 0)
      return true;
  }
  return false;
}
}  // namespace

std::string HelpFormatter::make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const {
  if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
  std::string groups;
  for (const std::string& group : app->get_groups()) {
    const auto options = app->get_options([&](const CLI::Option* option) {
      return option->get_group() == group && option->nonpositional() && !shown_on_another_line(*app, *option);
    });
    if (group.empty() || options.empty()) continue;
    groups += (groups.empty() ? "" : "\n") + make_group(group, false, options);
  }
  return make_description(app) + make_usage(app, std::move(name)) + make_positionals(app) + groups +
         make_subcommands(app, mode) + "\n" + make_footer(app);
}

std::string HelpFormatter::make_group(std::string group, bool is_positional,
                                      std::vector<const CLI::Option*> opts) const {
  std::string text = group + ":\n";
  for (const CLI::Option* option : opts) text += make_option(option, is_positional);
  return text;
}

std::string HelpFormatter::make_usage(const CLI::App* app, std::string name) const {
  return CLI::Formatter::make_usage(app, std::move(name)) + "\n";
}

std::string HelpFormatter::make_positionals(const CLI::App* app) const {
  const std::string positionals = CLI::Formatter::make_positionals(app);
  return positionals.empty() ? positionals : positionals + "\n";
}

namespace {
// A name in the left column and its description wrapped to the terminal beside it.
std::string name_and_description(const std::string& name, const std::string& description, std::size_t column) {
  std::ostringstream out;
  const std::size_t room = std::max<std::size_t>(std::size_t(std::max(terminal_width(), 0)), column + 20);
  CLI::detail::format_help(out, name, wrap_words(description, room - column - 1), column);
  return out.str();
}
}  // namespace

std::string HelpFormatter::make_option(const CLI::Option* option, bool is_positional) const {
  return name_and_description(make_option_name(option, is_positional) + make_option_opts(option),
                              make_option_desc(option), column_width_);
}

std::string HelpFormatter::make_subcommand(const CLI::App* command) const {
  return name_and_description(command->get_display_name(true), command->get_description(), column_width_);
}

std::string HelpFormatter::make_option_opts(const CLI::Option* option) const {
  if (!option->get_option_text().empty()) return " " + option->get_option_text();
  if (option->get_type_size() == 0) return "";
  // "TEXT:{seed,s8}" -> "{seed,s8}"; "INT:INT in [1 - 256]" -> "INT": a range is checked, and
  // its error names it.
  const std::string type = option->get_type_name();
  const std::size_t choices = type.find(":{");
  std::string text = " " + (choices != std::string::npos ? type.substr(choices + 1) : type.substr(0, type.find(':')));
  if (option->get_expected_max() == CLI::detail::expected_max_vector_size) text += " ...";
  if (option->get_required()) text += " (required)";
  return text;
}

}  // namespace normlab::cli
