#include "normlab/train/evaluator.hpp"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "normlab/data/augment.hpp"
#include "normlab/engine/loss.hpp"

namespace normlab {

namespace {
// Mirrors every image of a planar NCHW batch left to right (test-time augmentation).
void mirror_batch(float* images, int count, Shape s) {
#pragma omp parallel for schedule(static)
  for (long row = 0; row < long(count) * s.c * s.h; ++row) {
    float* r = images + row * s.w;
    for (int x = 0; x < s.w / 2; ++x) std::swap(r[x], r[s.w - 1 - x]);
  }
}
}  // namespace

void use_threads(int threads) {
  omp_set_dynamic(0);
  omp_set_num_threads(threads);
}

Evaluator::Evaluator(NetworkBase& net, const ImageSet& images, bool test_time_flip)
    : net_(net), images_(images), test_time_flip_(test_time_flip) {
  labels_.resize(std::size_t(net.batch()));
  indices_.resize(std::size_t(net.batch()));
  predictions_.resize(std::size_t(images.count));
  logits_sum_.resize(std::size_t(net.batch()) * net.classes());
}

void Evaluator::forward_batch(int first, int count) {
  const ChannelNormalisation normalisation;
  // Consecutive images; the rows past `count` in the last batch hold stale images and are
  // ignored (evaluation treats every image on its own).
  for (int j = 0; j < count; ++j) indices_[std::size_t(j)] = first + j;
  assemble_batch(images_, indices_.data(), count, nullptr, normalisation, 0, 0, net_.input(),
                 labels_.data());
  net_.forward(Pass::eval);
  const long n = long(net_.batch()) * net_.classes();
  std::memcpy(logits_sum_.data(), net_.logits(), std::size_t(n) * sizeof(float));
  if (test_time_flip_) {
    mirror_batch(net_.input(), count, {3, kImageSide, kImageSide});
    net_.forward(Pass::eval);
    for (long i = 0; i < n; ++i)
      logits_sum_[std::size_t(i)] = 0.5f * (logits_sum_[std::size_t(i)] + net_.logits()[i]);
  }
}

Evaluation Evaluator::evaluate() {
  const int classes = net_.classes();
  Evaluation e;
  e.confusion.assign(std::size_t(classes) * classes, 0);
  long correct = 0;
  for (int first = 0; first < images_.count; first += net_.batch()) {
    const int count = std::min(net_.batch(), images_.count - first);
    forward_batch(first, count);
    const LossResult r = softmax_cross_entropy(logits_sum_.data(), labels_.data(), count, classes,
                                               0.f, nullptr, predictions_.data() + first);
    e.loss += r.loss_sum;
    correct += r.correct;
    for (int j = 0; j < count; ++j)
      ++e.confusion[std::size_t(labels_[std::size_t(j)]) * classes + predictions_[std::size_t(first + j)]];
  }
  e.loss /= images_.count;
  e.accuracy = 100.0 * correct / images_.count;
  e.predictions = predictions_;
  return e;
}

}  // namespace normlab
