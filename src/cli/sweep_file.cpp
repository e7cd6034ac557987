#include "sweep_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <toml++/toml.h>

#include "normlab/base/error.hpp"

namespace normlab::cli {

namespace fs = std::filesystem;

namespace {

std::string word_of(const toml::node& value, const std::string& where) {
  if (auto v = value.as_string()) return v->get();
  if (auto v = value.as_integer()) return std::to_string(v->get());
  if (auto v = value.as_floating_point()) return fmt::format("{}", v->get());
  if (auto v = value.as_boolean()) return v->get() ? "true" : "false";
  fail(where, "must be a string, a number or true/false");
}

void check_tables(const fs::path& file, const toml::table& doc) {
  for (const auto& [key, node] : doc) {
    const std::string k(key.str());
    if (k != "train" && k != "grid" && k != "lr-scaling" && k != "skip")
      fail(file, "unknown table or key '" + k + "' (expected [train], [grid], [lr-scaling], [[skip]])");
    if (k == "skip" ? !node.is_array_of_tables() : !node.is_table())
      fail(file, "'" + k + "' must be " + (k == "skip" ? "an array of tables ([[skip]])" : "a table"));
  }
}

void read_train(const fs::path& file, const toml::table& doc, SweepFile& out) {
  if (auto* t = doc["train"].as_table())
    for (const auto& [key, node] : *t)
      out.train[std::string(key.str())] = word_of(node, file.string() + ": train." + std::string(key.str()));
}

void read_grid(const fs::path& file, const toml::table& doc, SweepFile& out) {
  if (auto* t = doc["grid"].as_table())
    for (const auto& [key, node] : *t) {
      const std::string where = file.string() + ": grid." + std::string(key.str());
      const toml::array* list = node.as_array();
      if (!list || list->empty()) fail(where, "must be a non-empty list");
      Values values;
      for (const auto& v : *list) values.push_back(word_of(v, where));
      out.grid.emplace_back(std::string(key.str()), values);
    }
  // toml++ keeps keys sorted; the file's order says which axis varies slowest.
  std::stable_sort(out.grid.begin(), out.grid.end(), [&](const auto& a, const auto& b) {
    return doc["grid"][a.first].node()->source().begin.line <
           doc["grid"][b.first].node()->source().begin.line;
  });
}

void read_skips(const fs::path& file, const toml::table& doc, SweepFile& out) {
  const toml::array* list = doc["skip"].as_array();
  if (!list) return;
  for (std::size_t i = 0; i < list->size(); ++i) {
    SkipRule rule;
    for (const auto& [key, node] : *list->at(i).as_table()) {
      const std::string where = fmt::format("{}: skip #{}: {}", file.string(), i + 1, key.str());
      Values values;
      if (const toml::array* many = node.as_array())
        for (const auto& v : *many) values.push_back(word_of(v, where));
      else
        values.push_back(word_of(node, where));
      rule.emplace_back(std::string(key.str()), values);
    }
    if (rule.empty()) fail(file, fmt::format("skip #{} is empty (it would skip every point)", i + 1));
    out.skips.push_back(rule);
  }
}

void read_lr_scaling(const fs::path& file, const toml::table& doc, SweepFile& out) {
  const toml::table* t = doc["lr-scaling"].as_table();
  if (!t) return;
  out.lr_rule = (*t)["rule"].value_or(std::string());
  out.reference_batch = (*t)["reference-batch"].value_or(128.0);
  if (out.lr_rule != "linear")
    fail(file, "lr-scaling.rule must be \"linear\" (lr x batch-size / reference-batch)");
  if (!(out.reference_batch >= 1)) fail(file, "lr-scaling.reference-batch must be at least 1");
}

}  // namespace

SweepFile read_sweep_file(const fs::path& file) {
  toml::table doc;
  try {
    doc = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    fail(file, fmt::format("not valid TOML: {} (line {})", e.description(), e.source().begin.line));
  }
  check_tables(file, doc);
  SweepFile out;
  read_train(file, doc, out);
  read_grid(file, doc, out);
  read_skips(file, doc, out);
  read_lr_scaling(file, doc, out);
  return out;
}

}  // namespace normlab::cli
