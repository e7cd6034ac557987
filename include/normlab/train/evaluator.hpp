// The test pass: a network's loss, accuracy, predictions and confusion matrix over an image set,
// batch by batch, optionally averaged with each image's mirror (test-time flip). Used by the
// trainer after every epoch and by `normlab eval` on imported weights.
#pragma once

#include <cstdint>
#include <vector>

#include "normlab/data/cifar10.hpp"
#include "normlab/engine/network.hpp"

namespace normlab {

struct Evaluation {
  double loss = 0;
  double accuracy = 0;  // percent
  std::vector<int> predictions;  // per evaluated image
  std::vector<std::int64_t> confusion;  // classes x classes, row = actual
};

class Evaluator {
 public:
  // `net` and `images` must outlive the evaluator; its buffers are sized here, once.
  Evaluator(NetworkBase& net, const ImageSet& images, bool test_time_flip);

  const ImageSet& images() const { return images_; }
  Evaluation evaluate();

 private:
  void forward_batch(int first, int count);  // leaves the (averaged) logits in logits_sum_

  NetworkBase& net_;
  ImageSet images_;
  bool test_time_flip_;
  std::vector<int> labels_, indices_, predictions_;
  std::vector<float> logits_sum_;
};

// OpenMP with a fixed thread count and no dynamic adjustment: oneDNN's CPU primitives are then
// deterministic run to run.
void use_threads(int threads);

}  // namespace normlab
