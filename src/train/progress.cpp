#include "normlab/train/progress.hpp"

#include "normlab/train/progress_line.hpp"
#include "normlab/train/terminal_width.hpp"

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
    : label_(std::move(label)),
      epochs_(epochs),
      terminal_(isatty(fileno(stderr)) != 0),
      width_(terminal_width()) {}

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
  const double left = done > 0 ? (t - started_) / done * (steps_ - done) : 0;
  const StepProgress p{epoch_, epochs_, done, steps_, images_per_second, mean_loss, accuracy, left};
  // Erased to the end of the row: a shorter line must not leave the last one's tail behind.
  std::fprintf(stderr, "\r%s\033[K", step_line(label_, p, width_).c_str());
  std::fflush(stderr);
}

void Progress::end_epoch(const EpochMetrics& m) {
  if (terminal_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s\n", epoch_line(label_, epochs_, m, width_).c_str());
}

}  // namespace normlab
