// Progress's lines fit the width they are given, whatever the label, the epoch count or the
// numbers, and say the most they can in it.
#include <gtest/gtest.h>

#include "normlab/train/progress_line.hpp"

using namespace normlab;

namespace {

EpochMetrics worst_epoch() {
  EpochMetrics m;
  m.epoch = 1000;
  m.learning_rate = 0.000123456;
  m.train_loss = 12.345678;
  m.train_accuracy = 100;
  m.test_loss = 12.345678;
  m.test_accuracy = 100;
  m.seconds = 12345.6;
  return m;
}

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
  EpochMetrics m;
  m.epoch = 3;
  m.learning_rate = 0.01;
  m.train_loss = 1.23456;
  m.train_accuracy = 55.5;
  m.test_loss = 1.5;
  m.test_accuracy = 50.25;
  m.seconds = 21.04;
  EXPECT_EQ(epoch_line("SeedNet/batch", 20, m, 200),
            "SeedNet/batch epoch 3/20  lr 0.01000  train loss 1.2346 acc 55.50%  test loss 1.5000 acc 50.25%  21.0s");
  EXPECT_EQ(step_line("SeedNet/batch", {3, 20, 195, 390, 2400, 1.5, 45, 20}, 200),
            "SeedNet/batch epoch 3/20 [###############...............] 195/390  2400 img/s  loss 1.5000  "
            "acc 45.00%  20s left");
}

TEST(ProgressLine, EightyColumnsKeepTrainAndTestLossAndAccuracy) {
  EpochMetrics m;
  m.epoch = 20;
  m.learning_rate = 0.01;
  m.train_loss = 0.61234;
  m.train_accuracy = 78.5;
  m.test_loss = 0.7;
  m.test_accuracy = 76.09;
  m.seconds = 123.4;
  const std::string line = epoch_line("SeedNet/batch", 20, m, 80);
  EXPECT_LE(line.size(), 80u);
  EXPECT_EQ(line, "SeedNet/batch epoch 20/20  train 78.50% loss 0.612  test 76.09% loss 0.700  123s");
  const std::string bar = step_line("SeedNet/batch", {20, 20, 100, 390, 2400, 0.6, 78, 30}, 80);
  EXPECT_LE(bar.size(), 79u);
  EXPECT_NE(bar.find("loss 0.6000"), std::string::npos) << bar;
  EXPECT_NE(bar.find("s left"), std::string::npos) << bar;
}
