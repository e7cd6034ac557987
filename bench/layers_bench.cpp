// Per-layer and whole-step benchmarks, generated from the network declarations: for every
// network type below and every top-level layer in its Net::layers, one forward and one backward
// benchmark, named "<net>/<norm>/<i>-<kind>/{forward,backward}" (i is 1-based, as in
// `normlab summary`; each layer timed alone, with the layered executor), plus
// "<net>/<norm>/train_step" (fused, the default), "<net>/<norm>-layered/train_step" and
// "<net>/<norm>/eval_step", and
// "seed/batch-k<K>/train_step" for ghost batch norm over groups of K images. With Winograd
// (--conv winograd): "<net>/<norm>-winograd/train_step"; with --precision bf16:
// "<net>/<norm>-bf16/train_step". And for the table of layers where Winograd
// pays, every 3x3 layer with Winograd wherever oneDNN takes it,
// "<net>/batch-winograd-everywhere/<i>-<kind>/{forward,backward}" for the 3x3 layers and the
// residual blocks, and its train_step.
// Adding a layer to a declaration adds its benchmarks; nothing here lists layers.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include <fmt/format.h>

#include "machine_peak.hpp"
#include "normlab/engine/loss.hpp"
#include "normlab/train/models.hpp"
#include "normlab/engine/network.hpp"
#include "normlab/engine/optimizer.hpp"
#include "normlab/train/diagnostics.hpp"

namespace normlab {
namespace {

constexpr int kBatch = 128;

// NORMLAB_THREADS (default 2) before any benchmark runs: oneDNN's OpenMP runtime reads it.
const int kThreads = [] {
  int threads = 2;
  if (const char* env = std::getenv("NORMLAB_THREADS"); env != nullptr && std::atoi(env) > 0)
    threads = std::atoi(env);
  omp_set_num_threads(threads);
  return threads;
}();

// One network alive at a time (benchmarks run in registration order, so each network is built
// once); a new type replaces the old one, which bounds memory to one arena.
struct LiveNetwork {
  const std::type_info* type = nullptr;
  int norm_batch = 0;
  int batch = 0;
  ConvOptions conv = {};
  std::unique_ptr<NetworkBase> net;
  std::vector<int> labels;
  std::vector<float> parameters, buffers;  // as built, for time_layer to restore
};
LiveNetwork& live() {
  static LiveNetwork l;
  return l;
}

// Built, initialised, with a realistic input and one full training step already run, so every
// op's backward has the statistics its forward saves.
template <class Net, Executor E = Executor::fused>
Network<Net, E>& network(int norm_batch = 0, int batch = kBatch, ConvOptions conv = {}) {
  LiveNetwork& l = live();
  const bool same_conv = l.conv.mode == conv.mode && l.conv.precision == conv.precision;
  if (l.type != &typeid(Network<Net, E>) || l.norm_batch != norm_batch || l.batch != batch || !same_conv) {
    l.net.reset();
    l.type = nullptr;
    auto net = std::make_unique<Network<Net, E>>(batch, norm_batch, conv);
    net->initialise(1);
    float* x = net->input();
    const long n = long(batch) * Net::input.size();
    for (long i = 0; i < n; ++i)  // deterministic values of about unit scale
      x[i] = float(int((i * 2654435761u) >> 7 & 1023) - 512) / 256.f;
    l.labels.resize(std::size_t(batch));
    for (int i = 0; i < batch; ++i) l.labels[i] = int((i * 7919u) % unsigned(net->classes()));
    net->forward(Pass::train);
    softmax_cross_entropy(net->logits(), l.labels.data(), batch, net->classes(), 0.f,
                          net->logits_grad(), nullptr);
    net->backward();
    dnnl::stream(net->stream()).wait();
    l.parameters.assign(net->parameters().begin(), net->parameters().end());
    l.buffers.assign(net->buffers().begin(), net->buffers().end());
    l.net = std::move(net);
    l.type = &typeid(Network<Net, E>);
    l.norm_batch = norm_batch;
    l.batch = batch;
    l.conv = conv;
  }
  return static_cast<Network<Net, E>&>(*l.net);
}

// Plain numbers rather than benchmark's kIsRate counters (which print "GFLOP/s=3.9/s"): the
// loop's own wall time, measured around it, is the real time benchmark reports.
class WallClock {
 public:
  WallClock() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

void set_rates(benchmark::State& state, double seconds, double flops_per_image, int batch = kBatch,
               double bytes_per_image = 0) {
  const double images = double(state.iterations()) * batch;
  state.SetItemsProcessed(static_cast<std::int64_t>(images));
  if (seconds <= 0) return;
  state.counters["images/s"] = images / seconds;
  if (flops_per_image > 0) {
    const double flops_per_second = images * flops_per_image / seconds;
    state.counters["GFLOP/s"] = flops_per_second / 1e9;
    state.counters["%peak"] = 100 * flops_per_second / peak_flops();
  }
  if (bytes_per_image > 0) {
    state.counters["MB"] = bytes_per_image * batch / 1e6;  // per call
    state.counters["GB/s"] = images * bytes_per_image / seconds / 1e9;
  }
}

// The bytes one pass of a layer must move at least, per image: every f32 tensor it reads or
// writes, once. Forward reads its input and writes its output; backward reads the output's
// gradient and the input (or what it saved of that size) and writes the input's gradient,
// which the network's first layer has none of. Weights are a few KiB and left out. A pass
// that reads a tensor twice (a norm's two passes) moves more than this, so GB/s from this
// count is a lower bound on the traffic.
double pass_bytes_per_image(const LayerInfo& l, bool backward) {
  const double in = 4.0 * l.input.size(), out = 4.0 * l.output.size();
  if (!backward) return in + out;
  return out + in + (l.input_gradient ? in : 0.0);
}

// Deterministic values of about `scale` in magnitude, all normal floats.
void fill_fresh(float* p, long n, float scale) {
  for (long i = 0; i < n; ++i)
    p[i] = scale * float(int((i * 2654435761u) >> 7 & 1023) - 512 + 0.5f) / 256.f;
}

template <class Net>
void time_layer(benchmark::State& state, int index, bool backward,
                ConvOptions conv = {}) {
  // One op per layer: the row times its layer alone.
  auto& net = network<Net, Executor::layered>(0, kBatch, conv);
  dnnl::stream s = net.stream();  // a handle: copies share the stream
  std::function<void()> run_forward, run_backward;
  const Tensor* in = nullptr;  // the layer's input: the previous layer's output
  const Tensor* out = nullptr;
  const Tensor* previous = nullptr;
  int k = 0;
  net.for_each_op([&](auto& op) {
    if (k++ == index) {
      in = previous;
      out = &op.output();
      run_forward = [&op, &s] { op.forward(s, Pass::train, StepKey{}); };
      run_backward = [&op, &s] { op.backward(s); };
    }
    previous = &op.output();
  });
  if (!out) {
    state.SkipWithError("layer index past the network's ops");
    return;
  }
  const Arena& arena = net.arena();
  auto floats = [](const Tensor& t) { return long(t.md.get_size() / sizeof(float)); };
  // Earlier rows leave their values in the arena, whose gradient buffers layers share: repeated
  // dropout grows values towards infinity and gradients shrink towards subnormal floats, which
  // can make a kernel many times slower (a microcode assist per operation on Intel CPUs). So
  // every buffer the layer reads gets fresh values here, outside the timed loop: the row times
  // its layer alone, whatever ran before.
  std::copy(live().parameters.begin(), live().parameters.end(), net.parameters().begin());
  std::copy(live().buffers.begin(), live().buffers.end(), net.buffers().begin());
  if (in) fill_fresh(arena.as<float>(in->value), floats(*in), 1.f);  // else the network's input
  run_forward();  // what backward reads from its forward (statistics, masks) matches the input
  s.wait();
  if (out->has_grad()) fill_fresh(arena.as<float>(out->grad), floats(*out), 1e-3f);
  const std::function<void()>& run = backward ? run_backward : run_forward;
  run();  // warm caches and lazily created scratch
  s.wait();
  const WallClock clock;
  for (auto _ : state) {
    run();
    s.wait();
  }
  const double seconds = clock.seconds();
  const LayerInfo& l = Net::layers[index];
  set_rates(state, seconds, backward ? l.backward_flops : l.flops, kBatch,
            pass_bytes_per_image(l, backward));
}

template <class Net, Executor E = Executor::fused>
void time_train_step(benchmark::State& state, int norm_batch = 0, int batch = kBatch,
                     ConvOptions conv = {}) {
  auto& net = network<Net, E>(norm_batch, batch, conv);
  const std::vector<int>& labels = live().labels;
  const SgdConfig sgd{};
  dnnl::stream s = net.stream();
  const WallClock clock;
  for (auto _ : state) {
    net.forward(Pass::train);
    const LossResult loss = softmax_cross_entropy(net.logits(), labels.data(), batch,
                                                  net.classes(), 0.f, net.logits_grad(), nullptr);
    benchmark::DoNotOptimize(loss.loss_sum);
    net.backward();
    sgd_step(net, sgd, 1e-3f);  // small: the weights stay sane however long the benchmark runs
    s.wait();
  }
  set_rates(state, clock.seconds(), 0, batch);
}

// A training step that is a diagnostics sample (train/diagnostics.hpp): against train_step,
// its extra time divided by the sampling interval (steps per epoch / 20) is what the
// diagnostics add to every step of an epoch.
template <class Net>
void time_sampled_train_step(benchmark::State& state) {
  auto& net = network<Net, Executor::fused>(0, kBatch, {});
  const std::vector<int>& labels = live().labels;
  const SgdConfig sgd{};
  dnnl::stream s = net.stream();
  Diagnostics diagnostics(net, 390);
  SinceLastSample since;
  std::vector<DiagnosticsRow> rows;
  const WallClock clock;
  for (auto _ : state) {
    net.forward(Pass::train);
    const LossResult loss = softmax_cross_entropy(net.logits(), labels.data(), kBatch,
                                                  net.classes(), 0.f, net.logits_grad(), nullptr);
    since.loss_sum += loss.loss_sum;
    since.seen += kBatch;
    diagnostics.begin(net);
    net.backward();
    diagnostics.read_before_update(net);
    sgd_step(net, sgd, 1e-3f);
    s.wait();
    rows.clear();
    diagnostics.finish(net, 0, 0, since, rows);
    benchmark::DoNotOptimize(rows.data());
  }
  set_rates(state, clock.seconds(), 0, kBatch);
  state.counters["sampled_every"] = Diagnostics::interval_for(390);
}

template <class Net>
void time_eval_step(benchmark::State& state) {
  Network<Net>& net = network<Net>();
  dnnl::stream s = net.stream();
  const WallClock clock;
  for (auto _ : state) {
    net.forward(Pass::eval);
    s.wait();
    benchmark::DoNotOptimize(net.logits());
  }
  set_rates(state, clock.seconds(), 0);
}

template <class Net>
void register_network(std::string_view net_name, std::string_view norm_name) {
  const std::string prefix = fmt::format("{}/{}/", net_name, norm_name);
  for (int i = 0; i < Net::depth; ++i) {
    const std::string layer = fmt::format("{}{:02}-{}/", prefix, i + 1, Net::layers[i].kind);
    for (const bool backward : {false, true})
      benchmark::RegisterBenchmark((layer + (backward ? "backward" : "forward")).c_str(),
                                   [i, backward](benchmark::State& s) { time_layer<Net>(s, i, backward); })
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
  }
  benchmark::RegisterBenchmark((prefix + "train_step").c_str(),
                               [](benchmark::State& s) { time_train_step<Net>(s); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  // The same step with one op per layer: the fused engine's reference, timed beside it.
  benchmark::RegisterBenchmark(fmt::format("{}/{}-layered/train_step", net_name, norm_name).c_str(),
                               [](benchmark::State& s) { time_train_step<Net, Executor::layered>(s); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark((prefix + "eval_step").c_str(), time_eval_step<Net>)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  // Only the modes this CPU and build run: oneDNN 2.6 has Winograd and bf16 convolutions for
  // AVX-512 CPUs only, and normlab's kernels exist in an AVX-512 build only.
  if (cpu_has_onednn_avx512_convolutions()) {
    benchmark::RegisterBenchmark(
        fmt::format("{}/{}-winograd/train_step", net_name, norm_name).c_str(),
        [](benchmark::State& s) { time_train_step<Net>(s, 0, kBatch, {ConvMode::winograd}); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(
        fmt::format("{}/{}-bf16/train_step", net_name, norm_name).c_str(),
        [](benchmark::State& s) {
          time_train_step<Net>(s, 0, kBatch, {ConvMode::direct, Precision::bf16});
        })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  if (normlab_conv_kernels_built())
    benchmark::RegisterBenchmark(
        fmt::format("{}/{}-normlab/train_step", net_name, norm_name).c_str(),
        [](benchmark::State& s) { time_train_step<Net>(s, 0, kBatch, {ConvMode::normlab}); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
}

// Each 3x3 layer in another convolution mode, against the same layer direct in
// "<net>/batch/". With Winograd wherever oneDNN takes it ("batch-winograd-everywhere", also the
// whole step), the measurement behind ConvOp::winograd_pays; with normlab's own kernels
// ("batch-normlab", whose step is "<net>/batch-normlab/train_step" of register_network).
template <class Net>
void register_conv_mode_layers(std::string_view net_name, std::string_view mode_name,
                               ConvOptions conv) {
  const std::string prefix = fmt::format("{}/batch-{}/", net_name, mode_name);
  for (int i = 0; i < Net::depth; ++i) {
    const std::string_view kind = Net::layers[i].kind;
    if (!kind.ends_with("Conv3x3") && kind != "Residual") continue;  // a Residual holds 3x3s
    const std::string layer = fmt::format("{}{:02}-{}/", prefix, i + 1, Net::layers[i].kind);
    for (const bool backward : {false, true})
      benchmark::RegisterBenchmark(
          (layer + (backward ? "backward" : "forward")).c_str(),
          [i, backward, conv](benchmark::State& s) { time_layer<Net>(s, i, backward, conv); })
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
  }
  if (conv.mode == ConvMode::winograd_everywhere)
    benchmark::RegisterBenchmark((prefix + "train_step").c_str(), [conv](benchmark::State& s) {
      time_train_step<Net>(s, 0, kBatch, conv);
    })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
}

// Every network with every norm, from the tables in models.hpp; their layers come from the
// declarations in nets.hpp.
const bool kRegistered = [] {
  for_each_network([]<class Net>(std::string_view net, std::string_view norm) {
    register_network<Net>(std::string(net), std::string(norm));
  });
  for (const auto& [mode_name, mode] : {std::pair{"winograd-everywhere", ConvMode::winograd_everywhere},
                                        std::pair{"normlab", ConvMode::normlab}}) {
    const bool runs_here = mode == ConvMode::normlab ? normlab_conv_kernels_built()
                                                     : cpu_has_onednn_avx512_convolutions();
    if (!runs_here) continue;
    register_conv_mode_layers<SeedNet<BatchNorm>>("seed", mode_name, {mode});
    register_conv_mode_layers<S8Net<BatchNorm>>("s8", mode_name, {mode});
  }
  // The diagnostics' cost: a sampled step against train_step.
  benchmark::RegisterBenchmark("seed/batch/train_step_sampled", time_sampled_train_step<SeedNet<BatchNorm>>)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("s8/batch/train_step_sampled", time_sampled_train_step<S8Net<BatchNorm>>)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  // Small batches: images/s of a training step at batch 2, 8 and 32, against train_step's 128.
  for (const int batch : {2, 8, 32})
    benchmark::RegisterBenchmark(fmt::format("seed/batch-b{}/train_step", batch).c_str(),
                                 [batch](benchmark::State& s) { time_train_step<SeedNet<BatchNorm>>(s, 0, batch); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  for (const int k : {8, 2})  // the step's cost of ghost batch norm (--norm-batch K)
    benchmark::RegisterBenchmark(fmt::format("seed/batch-k{}/train_step", k).c_str(),
                                 [k](benchmark::State& s) { time_train_step<SeedNet<BatchNorm>>(s, k); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  return true;
}();

}  // namespace
}  // namespace normlab
