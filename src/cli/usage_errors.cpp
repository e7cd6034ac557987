#include "usage_errors.hpp"

#include <algorithm>

#include "did_you_mean.hpp"

namespace normlab::cli {

namespace {

// The command the mistake was made in: the deepest subcommand parsing had reached, else the
// program itself.
const CLI::App& command_of(const CLI::App& app) {
  const CLI::App* command = &app;
  while (!command->get_subcommands().empty()) command = command->get_subcommands().back();
  return *command;
}

// "normlab" or "normlab train".
std::string command_name(const CLI::App& command) {
  return command.get_parent() ? command_name(*command.get_parent()) + " " + command.get_name()
                              : std::string("normlab");
}

// Every name the command's --help shows ("--norm", "-h", "--help"): not an option it accepts
// only to refuse (compare's --norm).
std::vector<std::string> option_names(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::Option* option : command.get_options()) {
    if (option->get_group().empty()) continue;
    for (const auto& name : option->get_lnames()) names.push_back("--" + name);
    for (const auto& name : option->get_snames()) names.push_back("-" + name);
  }
  return names;
}

std::string with_hint(std::string text, const std::optional<std::string>& hint) {
  return hint ? text + " (did you mean " + *hint + "?)" : text;
}

// What the command did not expect: its first unknown option, else its first stray word.
std::string unexpected_text(const CLI::App& command) {
  const std::vector<std::string> words = command.remaining();
  const auto option = std::find_if(words.begin(), words.end(),
                                   [](const std::string& w) { return w.size() > 1 && w[0] == '-'; });
  if (option != words.end()) {
    const std::string flag = option->substr(0, option->find('='));
    return with_hint("unknown option " + flag, nearest_word(flag, option_names(command)));
  }
  if (!words.empty()) return "unexpected argument '" + words.front() + "'";
  return "";
}

}  // namespace

std::string usage_error_line(const CLI::App& app, const CLI::ParseError& error, int argc, char** argv) {
  // CLI11 reports `normlab frobnicate` as "A subcommand is required": name what was typed.
  if (app.get_subcommands().empty() && argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> commands;
    for (const CLI::App* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
    return with_hint(std::string("normlab: error: unknown command '") + argv[1] + "'",
                     nearest_word(argv[1], commands)) +
           " (see normlab --help)";
  }
  const CLI::App& command = command_of(app);
  std::string what = dynamic_cast<const CLI::ExtrasError*>(&error) ? unexpected_text(command) : "";
  if (what.empty()) what = error.what();
  const std::string name = command_name(command);
  return name + ": error: " + what + " (see " + name + " --help)";
}

}  // namespace normlab::cli
