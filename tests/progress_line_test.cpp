// Progress's lines fit the width they are given, whatever the label, the epoch count or the
// numbers, and say the most they can in it.
#include <gtest/gtest.h>

#include "normlab/train/progress_line.hpp"

using namespace normlab;

namespace {

EpochMetrics epoch_metrics(int epoch, double lr, double train_loss, double train_accuracy,
                           double test_loss, double test_accuracy, double seconds) {
  EpochMetrics m;
  m.epoch = epoch;
  m.learning_rate = lr;
  m.train_loss = train_loss;
  m.train_accuracy = train_accuracy;
  m.test_loss = test_loss;
  m.test_accuracy = test_accuracy;
  m.seconds = seconds;
  return m;
}

EpochMetrics worst_epoch() { return epoch_metrics(1000, 0.000123456, 12.345678, 100, 12.345678, 100, 12345.6); }

StepProgress worst_step() { return {1000, 1000, 781, 781, 123456, 12.345678, 100, 123456}; }

}  // namespace

TEST(ProgressLine, EveryLineFitsItsWidth) {
  for (const std::string label : {"SeedNet/batch", "S8Net-plain/layer"})
    for (int width = 1; width <= 200; ++width) {
      SCOPED_TRACE(label + std::string(" at ") + std::to_string(width));
      EXPECT_LE(int(epoch_line(label, 1000, worst_epoch(), width).size()), width);
      EXPECT_LE(int(step_line(label, worst_step(), width).size()), std::max(width - 1, 0));
    }
}

TEST(ProgressLine, AWideScreenGetsEveryField) {
  const EpochMetrics m = epoch_metrics(3, 0.01, 1.23456, 55.5, 1.5, 50.25, 21.04);
  EXPECT_EQ(epoch_line("SeedNet/batch", 20, m, 200),
            "SeedNet/batch epoch 3/20  lr 0.01000  train loss 1.2346 acc 55.50%  test loss 1.5000 acc 50.25%  21.0s");
  EXPECT_EQ(step_line("SeedNet/batch", {3, 20, 195, 390, 2400, 1.5, 45, 20}, 200),
            "SeedNet/batch epoch 3/20 [###############...............] 195/390  2400 img/s  loss 1.5000  "
            "acc 45.00%  20s left");
}

TEST(ProgressLine, EightyColumnsKeepTrainAndTestLossAndAccuracy) {
  const EpochMetrics m = epoch_metrics(20, 0.01, 0.61234, 78.5, 0.7, 76.09, 123.4);
  const std::string line = epoch_line("SeedNet/batch", 20, m, 80);
  EXPECT_LE(line.size(), 80u);
  EXPECT_EQ(line, "SeedNet/batch epoch 20/20  train 78.50% loss 0.612  test 76.09% loss 0.700  123s");
  const std::string bar = step_line("SeedNet/batch", {20, 20, 100, 390, 2400, 0.6, 78, 30}, 80);
  EXPECT_LE(bar.size(), 79u);
  EXPECT_NE(bar.find("loss 0.6000"), std::string::npos) << bar;
  EXPECT_NE(bar.find("s left"), std::string::npos) << bar;
}
