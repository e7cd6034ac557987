// A closed set of choices: an enum whose values' names (on the command line and in
// config.json) and help texts are written once, in a table, and from which the parsing, the
// JSON, the option's help and its error messages are derived.
//
//   template <> struct ChoiceTable<Precision> {
//     static constexpr std::string_view key = "precision";          // config.json's key
//     static constexpr Choice<Precision> rows[] = {{Precision::f32, "f32", "..."}, ...};
//   };
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "normlab/base/error.hpp"

namespace normlab {

template <class E>
struct Choice {
  E value;
  std::string_view name;
  std::string_view help;
};

template <class E>
struct ChoiceTable;  // specialised next to each enum

template <class E>
concept Chosen = requires { ChoiceTable<E>::rows; ChoiceTable<E>::key; };

template <Chosen E>
std::string_view name_of(E value) {
  for (const auto& row : ChoiceTable<E>::rows)
    if (row.value == value) return row.name;
  return "?";
}

template <Chosen E>
std::optional<E> named(std::string_view name) {
  for (const auto& row : ChoiceTable<E>::rows)
    if (row.name == name) return row.value;
  return std::nullopt;
}

template <Chosen E>
std::vector<std::string> names_of() {
  std::vector<std::string> names;
  for (const auto& row : ChoiceTable<E>::rows) names.emplace_back(row.name);
  return names;
}

// "direct, winograd or normlab"
template <Chosen E>
std::string choices_text() {
  const auto names = names_of<E>();
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i)
    text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return text;
}

// "direct: oneDNN's kernels; winograd: ..." for an option's help.
template <Chosen E>
std::string choices_help() {
  std::string text;
  for (const auto& row : ChoiceTable<E>::rows)
    text += (text.empty() ? "" : "; ") + std::string(row.name) + ": " + std::string(row.help);
  return text;
}

template <Chosen E>
void to_json(nlohmann::json& j, E value) {
  j = std::string(name_of(value));
}

// Unlike NLOHMANN_JSON_SERIALIZE_ENUM, an unknown name is an error, not the first value.
template <Chosen E>
void from_json(const nlohmann::json& j, E& value) {
  const std::string text = j.get<std::string>();
  const auto found = named<E>(text);
  if (!found)
    throw ConfigError(std::string(ChoiceTable<E>::key),
                      "must be " + choices_text<E>() + ", not '" + text + "'");
  value = *found;
}

}  // namespace normlab
