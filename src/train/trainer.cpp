#include "normlab/train/trainer.hpp"

#include <cmath>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "normlab/base/error.hpp"
#include "normlab/engine/loss.hpp"
#include "normlab/train/models.hpp"
#include "normlab/engine/optimizer.hpp"
#include "normlab/train/progress.hpp"
#include "normlab/train/schedule.hpp"
#include "normlab/train/stop_signal.hpp"
#include "normlab/train/weights.hpp"

namespace normlab {

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Trainer::Trainer(const TrainConfig& config, const Cifar10& data) : config_(config) {
  config_.validate();
  use_threads(config_.threads);

  const ImageSet& all = data.train();
  train_ = all.first(all.count - config_.holdout);
  eval_ = config_.holdout > 0 ? all.last(config_.holdout) : data.test();
  if (config_.limit > train_.count)
    throw Error("--limit " + std::to_string(config_.limit) + " is more than the " +
                std::to_string(train_.count) + " training images");
  if (config_.limit > 0) train_ = train_.first(config_.limit);
  steps_ = train_.count / config_.batch;  // a static graph runs full batches only
  if (steps_ == 0)
    throw Error("the training set (" + std::to_string(train_.count) +
                     " images) is smaller than one batch of " + std::to_string(config_.batch));

  net_ = make_network(config_.net, config_.norm, config_.batch, config_.norm_batch,
                      {config_.conv, config_.precision}, config_.groups,
                      config_.unfused ? Executor::layered : Executor::fused);
  net_->initialise(config_.seed, config_.init);
  order_.resize(std::size_t(train_.count));
  labels_.resize(std::size_t(config_.batch));
  evaluator_ = std::make_unique<Evaluator>(*net_, eval_, config_.test_time_flip);
  diagnostics_ = std::make_unique<Diagnostics>(*net_, steps_);
  if (config_.landscape_every > 0) landscape_ = std::make_unique<Landscape>(*net_);
}

Outcome Trainer::train_epoch(TrainingState& state) {
  const int epoch = state.epoch;
  const int batch = config_.batch;
  const long total_steps = long(steps_) * config_.epochs;
  shuffled_order(config_.seed, epoch, train_.count, order_.data());
  Progress progress(network_display_name(config_.net) + "/" + config_.norm, config_.epochs);
  progress.start_epoch(epoch + 1, steps_);
  const SgdConfig sgd{config_.momentum, config_.nesterov, config_.weight_decay,
                      config_.decay_norms};
  const ChannelNormalisation normalisation;
  NetworkBase& net = *net_;
  double started = now() - state.seconds;
  float lr = config_.learning_rate;

  for (; state.step < steps_; ++state.step) {
    const long global_step = long(epoch) * steps_ + state.step;
    assemble_batch(train_, order_.data() + long(state.step) * batch, batch, &config_.augment,
                   normalisation, config_.seed, epoch, net.input(), labels_.data());
    net.forward(Pass::train, {config_.seed, epoch, global_step});
    const LossResult r = softmax_cross_entropy(net.logits(), labels_.data(), batch, net.classes(),
                                               config_.label_smoothing, net.logits_grad(), nullptr);
    // One comparison a step: a diverged run stops here instead of training on nan.
    if (!std::isfinite(r.loss_sum)) {
      divergence_ = {epoch + 1, state.step + 1, std::string("the training loss is ") + (std::isnan(r.loss_sum) ? "nan" : "infinite")};
      return Outcome::diverged;
    }
    const bool sample = diagnostics_->due(state.step);
    const bool walk = landscape_ && (global_step + 1) % config_.landscape_every == 0;
    if (sample) diagnostics_->begin(net);
    net.backward();
    if (sample) diagnostics_->read_before_update(net);
    if (walk) landscape_->keep_step_start(net);
    lr = learning_rate_at(config_.schedule, config_.learning_rate, global_step, total_steps);
    sgd_step(net, sgd, lr);
    if (walk)
      landscape_->measure(net, labels_.data(), config_.label_smoothing, {config_.seed, epoch, global_step},
                          r.loss_sum / batch, epoch, state.step, state.diagnostics);

    state.loss_sum += r.loss_sum;
    state.correct += r.correct;
    state.seen += batch;
    state.since_sample.loss_sum += r.loss_sum;
    state.since_sample.correct += r.correct;
    state.since_sample.seen += batch;
    if (sample) diagnostics_->finish(net, epoch, state.step, state.since_sample, state.diagnostics);
    const double elapsed = now() - started;
    progress.step(state.step + 1, state.loss_sum / state.seen, 100.0 * state.correct / state.seen,
                  state.seen / elapsed);
    if (stop_requested()) {
      ++state.step;
      state.seconds = elapsed;
      const std::string problem = non_finite_state(net);
      if (!problem.empty()) {
        divergence_ = {epoch + 1, state.step, problem};
        return Outcome::diverged;
      }
      return Outcome::stopped;
    }
  }

  // The rate of the epoch's last step, also when a resumed run had no step left to take here.
  lr = learning_rate_at(config_.schedule, config_.learning_rate, long(epoch) * steps_ + steps_ - 1,
                        total_steps);
  const Evaluation e = evaluate();
  EpochMetrics m;
  m.epoch = epoch + 1;
  m.learning_rate = std::strtod(fmt::format("{}", lr).c_str(), nullptr);  // 0.01, not its double expansion
  m.train_loss = state.loss_sum / state.seen;
  m.train_accuracy = 100.0 * state.correct / state.seen;
  m.test_loss = e.loss;
  m.test_accuracy = e.accuracy;
  m.seconds = now() - started;
  progress.end_epoch(m);
  state.history.push_back(m);
  state.epoch = epoch + 1;
  state.step = 0;
  state.loss_sum = 0;
  state.correct = 0;
  state.seen = 0;
  state.seconds = 0;
  // Checked before the epoch's checkpoint replaces the last good one.
  const std::string problem = non_finite_state(net);
  if (!problem.empty()) {
    divergence_ = {epoch + 1, steps_, problem};
    return Outcome::diverged;
  }
  return Outcome::finished;
}

Evaluation Trainer::evaluate() { return evaluator_->evaluate(); }

}  // namespace normlab
