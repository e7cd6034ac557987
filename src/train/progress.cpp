#include "normlab/train/progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace normlab {

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Progress::Progress(std::string label, int epochs)
    : label_(std::move(label)), epochs_(epochs), terminal_(isatty(fileno(stderr)) != 0) {}

void Progress::start_epoch(int epoch, int steps) {
  epoch_ = epoch;
  steps_ = steps;
  started_ = now();
  last_draw_ = 0;
}

void Progress::step(int done, double mean_loss, double accuracy, double images_per_second) {
  if (!terminal_) return;
  const double t = now();
  if (done < steps_ && t - last_draw_ < 0.25) return;
  last_draw_ = t;
  constexpr int kWidth = 30;
  const int filled = steps_ > 0 ? kWidth * done / steps_ : kWidth;
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
  bar[kWidth] = '\0';
  const double left = done > 0 ? (t - started_) / done * (steps_ - done) : 0;
  std::fprintf(stderr, "\r%s epoch %d/%d [%s] %d/%d  %.0f img/s  loss %.4f  acc %.2f%%  %3.0fs left ",
               label_.c_str(), epoch_, epochs_, bar, done, steps_, images_per_second, mean_loss,
               accuracy, left);
  std::fflush(stderr);
}

void Progress::end_epoch(const EpochMetrics& m) {
  if (terminal_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr,
               "%s epoch %d/%d  lr %.5f  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%  "
               "%.1fs\n",
               label_.c_str(), m.epoch, epochs_, m.learning_rate, m.train_loss, m.train_accuracy,
               m.test_loss, m.test_accuracy, m.seconds);
}

}  // namespace normlab
