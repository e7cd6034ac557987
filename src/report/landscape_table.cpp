#include "normlab/report/landscape_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace normlab {

namespace {

constexpr const char* kQuantities[] = {"landscape_loss_range", "landscape_gradient_change",
                                       "landscape_smoothness"};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// "1.234 ± 0.056" with three significant digits, or "1.234" for one run.
std::string mean_std_text(const std::vector<double>& v) {
  double mean = 0;
  for (double x : v) mean += x;
  mean /= double(v.size());
  if (v.size() < 2) return fmt::format("{:.3g}", mean);
  double square_sum = 0;
  for (double x : v) square_sum += (x - mean) * (x - mean);
  return fmt::format("{:.3g} ± {:.2g}", mean, std::sqrt(square_sum / double(v.size() - 1)));
}

}  // namespace

std::string landscape_table(std::span<const SettingDiagnostics> settings) {
  std::string rows;
  for (const SettingDiagnostics& setting : settings) {
    std::vector<std::vector<double>> medians(std::size(kQuantities));  // per quantity, per run
    for (const auto& run : setting.runs)
      for (std::size_t q = 0; q < std::size(kQuantities); ++q) {
        std::vector<double> values;
        for (const DiagnosticsRow& r : run)
          if (r.quantity == kQuantities[q] && std::isfinite(r.value)) values.push_back(r.value);
        if (!values.empty()) medians[q].push_back(median(std::move(values)));
      }
    if (medians[0].empty()) continue;
    rows += fmt::format("| {} | {} | {} | {} | {} |\n", setting.label, medians[0].size(),
                        mean_std_text(medians[0]), mean_std_text(medians[1]), mean_std_text(medians[2]));
  }
  if (rows.empty()) return "";
  return "The loss landscape along the update of the measured steps (`--landscape-every`): each "
         "quantity's median over a run's measured steps, mean ± std over the runs.\n\n"
         "| setting | runs | loss range | gradient change | effective smoothness |\n"
         "|---|---:|---:|---:|---:|\n" +
         rows;
}

}  // namespace normlab
