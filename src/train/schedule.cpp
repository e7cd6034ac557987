#include "normlab/train/schedule.hpp"

#include <cmath>
#include <numbers>

namespace normlab {

namespace {
// Cosine interpolation from a (at t = 0) to b (at t = 1).
double cosine(double a, double b, double t) { return b + (a - b) * 0.5 * (1 + std::cos(std::numbers::pi * t)); }
}  // namespace

float learning_rate_at(Schedule schedule, float peak, long step, long total_steps) {
  const double t = total_steps > 1 ? double(step) / double(total_steps - 1) : 0.0;
  switch (schedule) {
    case Schedule::constant: return peak;
    case Schedule::cosine: return float(cosine(peak, 0.0, t));
    case Schedule::one_cycle: {
      // OneCycleLR defaults: start at peak / 25, warm up for 30 %, end at start / 1e4.
      const double start = peak / 25.0, end = start / 1e4, warm = 0.3;
      if (t < warm) return float(cosine(start, peak, t / warm));
      return float(cosine(peak, end, (t - warm) / (1 - warm)));
    }
  }
  return peak;
}

}  // namespace normlab
