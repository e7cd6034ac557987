#include "normlab/train/progress_line.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace normlab {

namespace {

constexpr int kMaxBar = 30, kMinBar = 10;

// The first layout no longer than `width`, else the last one cut to it.
std::string first_fitting(const std::vector<std::string>& layouts, int width) {
  for (const std::string& line : layouts)
    if (int(line.size()) <= width) return line;
  return layouts.back().substr(0, std::size_t(std::max(width, 0)));
}

std::string bar(int done, int steps, int width) {
  const int filled = steps > 0 ? width * std::min(done, steps) / steps : width;
  std::string drawn(std::size_t(width) + 2, '.');
  drawn.front() = '[';
  drawn.back() = ']';
  std::fill_n(drawn.begin() + 1, filled, '#');
  return drawn;
}

}  // namespace

std::string step_line(const std::string& label, const StepProgress& p, int width) {
  const int room = width - 1;
  // Each layout is the text before and after the bar; the bar takes what is left, 10 to 30.
  const std::pair<std::string, std::string> layouts[] = {
      {fmt::format("{} epoch {}/{} ", label, p.epoch, p.epochs),
       fmt::format(" {}/{}  {:.0f} img/s  loss {:.4f}  acc {:.2f}%  {:.0f}s left", p.done, p.steps,
                   p.images_per_second, p.mean_loss, p.accuracy, p.seconds_left)},
      {fmt::format("{} {}/{} ", label, p.epoch, p.epochs),
       fmt::format(" {}/{}  loss {:.4f}  acc {:.2f}%  {:.0f}s left", p.done, p.steps, p.mean_loss,
                   p.accuracy, p.seconds_left)},
      {fmt::format("{} {}/{} ", label, p.epoch, p.epochs),
       fmt::format(" {}/{}  acc {:.2f}%", p.done, p.steps, p.accuracy)},
  };
  for (const auto& [before, after] : layouts) {
    const int bar_width = std::min(kMaxBar, room - int(before.size() + after.size()) - 2);
    if (bar_width >= kMinBar) return before + bar(p.done, p.steps, bar_width) + after;
  }
  return first_fitting({fmt::format("{} {}/{} {}/{}", label, p.epoch, p.epochs, p.done, p.steps)}, room);
}

std::string epoch_line(const std::string& label, int epochs, const EpochMetrics& m, int width) {
  const std::string head = fmt::format("{} epoch {}/{}", label, m.epoch, epochs);
  return first_fitting(
      {fmt::format("{}  lr {:.5f}  train loss {:.4f} acc {:.2f}%  test loss {:.4f} acc {:.2f}%  {:.1f}s", head,
                   m.learning_rate, m.train_loss, m.train_accuracy, m.test_loss, m.test_accuracy, m.seconds),
       fmt::format("{}  train {:.2f}% loss {:.3f}  test {:.2f}% loss {:.3f}  lr {:.3g}  {:.0f}s", head,
                   m.train_accuracy, m.train_loss, m.test_accuracy, m.test_loss, m.learning_rate, m.seconds),
       fmt::format("{}  train {:.2f}% loss {:.3f}  test {:.2f}% loss {:.3f}  {:.0f}s", head, m.train_accuracy,
                   m.train_loss, m.test_accuracy, m.test_loss, m.seconds),
       fmt::format("{}  train {:.2f}% loss {:.3f}  test {:.2f}% loss {:.3f}", head, m.train_accuracy,
                   m.train_loss, m.test_accuracy, m.test_loss),
       fmt::format("{}  train {:.2f}%  test {:.2f}%", head, m.train_accuracy, m.test_accuracy),
       fmt::format("{} {}/{}  test {:.2f}%", label, m.epoch, epochs, m.test_accuracy)},
      width);
}

}  // namespace normlab
