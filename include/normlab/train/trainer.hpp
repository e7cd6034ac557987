// The training loop: one step is batch assembly -> forward -> loss -> backward -> SGD update,
// on memory that already exists. Evaluates after every epoch and keeps the run directory and
// its checkpoint current, so a run can stop at any step and resume bit for bit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "normlab/data/cifar10.hpp"
#include "normlab/train/diagnostics.hpp"
#include "normlab/train/evaluator.hpp"
#include "normlab/train/landscape.hpp"
#include "normlab/report/epoch_metrics.hpp"
#include "normlab/engine/network.hpp"
#include "normlab/train/train_config.hpp"

namespace normlab {

// Where a run is: everything a checkpoint must carry besides the tensors.
struct TrainingState {
  int epoch = 0;  // epochs completed
  int step = 0;   // steps completed in the epoch under way
  double loss_sum = 0;  // of the epoch under way
  long correct = 0;
  long seen = 0;
  double seconds = 0;
  std::vector<EpochMetrics> history;
  SinceLastSample since_sample;             // the diagnostics' loss and accuracy so far
  std::vector<DiagnosticsRow> diagnostics;  // every sample so far (diagnostics.hpp)
};

// Where and how a run went non-finite (1-based epoch and step, as the progress line shows them).
struct Divergence {
  int epoch = 0;
  int step = 0;
  std::string what;  // "the training loss is nan", "conv3.weight holds nan at element 5"
};

enum class Outcome { finished, stopped, diverged };

class Trainer {
 public:
  Trainer(const TrainConfig& config, const Cifar10& data);

  NetworkBase& network() { return *net_; }
  const ImageSet& eval_set() const { return evaluator_->images(); }
  int steps_per_epoch() const { return steps_; }

  // Trains until the last epoch (finished), until a stop is requested (stopped: the state says
  // where) or until a loss or a parameter goes non-finite (diverged: divergence() says where;
  // the state and the network are then not to be saved). Calls on_epoch after each epoch's
  // evaluation, with a finite network. With stop_after_epoch > 0 it stops (resumably, at an
  // epoch's end) once that many epochs are done.
  template <class OnEpoch>
  Outcome run(TrainingState& state, OnEpoch&& on_epoch, int stop_after_epoch = 0);
  const Divergence& divergence() const { return divergence_; }

  Evaluation evaluate();  // the test (or holdout) pass

 private:
  Outcome train_epoch(TrainingState& state);

  TrainConfig config_;
  ImageSet train_, eval_;
  std::unique_ptr<NetworkBase> net_;
  int steps_ = 0;
  std::unique_ptr<Evaluator> evaluator_;
  std::unique_ptr<Diagnostics> diagnostics_;
  std::unique_ptr<Landscape> landscape_;  // with --landscape-every
  std::vector<int> order_, labels_;
  Divergence divergence_;
};

template <class OnEpoch>
Outcome Trainer::run(TrainingState& state, OnEpoch&& on_epoch, int stop_after_epoch) {
  while (state.epoch < config_.epochs) {
    const Outcome outcome = train_epoch(state);
    if (outcome != Outcome::finished) return outcome;
    on_epoch(state);
    if (stop_after_epoch > 0 && state.epoch >= stop_after_epoch && state.epoch < config_.epochs)
      return Outcome::stopped;
  }
  return Outcome::finished;
}

}  // namespace normlab
