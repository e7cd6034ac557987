// The nearest of a few known words to a mistyped one ("--nrom" -> "--norm"), for "did you
// mean" hints in command-line errors.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace normlab::cli {

// Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`.
int edit_distance(const std::string& a, const std::string& b);

// The known word closest to `typed`, if it is close enough to be a likely typo: one edit in a
// word of up to three letters, else a third of its letters (two to three). Leading dashes are
// not letters. Ties go to the first in `known`.
std::optional<std::string> nearest_word(const std::string& typed, const std::vector<std::string>& known);

}  // namespace normlab::cli
