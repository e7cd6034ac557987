// Whether two training histories record the same epochs: a resumed or re-read run against the
// straight one it must reproduce.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "normlab/report/epoch_metrics.hpp"

namespace normlab {

// A recorded value equal to another; a NaN (a diverged epoch's loss) equals a NaN.
inline bool same_record(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// Everything an epoch records except its wall time, which no two runs share.
inline void expect_same_history(const std::vector<EpochMetrics>& a,
                                const std::vector<EpochMetrics>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("epoch " + std::to_string(i + 1));
    EXPECT_EQ(a[i].epoch, b[i].epoch);
    EXPECT_PRED2(same_record, a[i].learning_rate, b[i].learning_rate);
    EXPECT_PRED2(same_record, a[i].train_loss, b[i].train_loss);
    EXPECT_PRED2(same_record, a[i].train_accuracy, b[i].train_accuracy);
    EXPECT_PRED2(same_record, a[i].test_loss, b[i].test_loss);
    EXPECT_PRED2(same_record, a[i].test_accuracy, b[i].test_accuracy);
  }
}

}  // namespace normlab
