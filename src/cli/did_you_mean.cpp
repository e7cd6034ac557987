#include "did_you_mean.hpp"

#include <algorithm>

namespace normlab::cli {

int edit_distance(const std::string& a, const std::string& b) {
  // Optimal string alignment: Levenshtein plus the swap of neighbours ("nrom" is one edit).
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = int(i);
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = int(j);
  for (std::size_t i = 1; i <= n; ++i)
    for (std::size_t j = 1; j <= m; ++j) {
      const int replace = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + replace});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

std::optional<std::string> nearest_word(const std::string& typed, const std::vector<std::string>& known) {
  // Dashes are not letters a person mistypes: "--nrom" has four letters to get wrong.
  auto letters = [](const std::string& word) {
    const std::size_t first = word.find_first_not_of('-');
    return first == std::string::npos ? word : word.substr(first);
  };
  const std::string typed_letters = letters(typed);
  const int length = int(typed_letters.size());
  const int allowed = length <= 3 ? 1 : std::clamp(length / 3, 2, 3);
  std::optional<std::string> best;
  int best_distance = allowed + 1;
  for (const std::string& word : known) {
    const int distance = edit_distance(typed_letters, letters(word));
    if (distance < best_distance) {
      best = word;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace normlab::cli
