// The layout question behind SeedNet's 16-channel convolutions: oneDNN's kernel for the
// channels-last activations normlab uses (nhwc) against its blocked one (nChw16c), alone, on
// the problems of C2 (16 -> 16 channels at 32x32) and C5 (16 -> 16 at 16x16), batch 128.
// With exactly 16 channels the two layouts are the same bytes, so either could be used without
// a reorder; README.md ("Performance and memory") says why normlab stays with nhwc.
//   conv_layout/<in>to<out>@<size>/<nhwc|nChw16c>/<forward|backward_data|backward_weights>
// Each row's label is the kernel oneDNN picked.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "machine_peak.hpp"

namespace normlab {
namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;
constexpr int kBatch = 128;

enum class ConvPass { forward, backward_data, backward_weights };

void time_conv(benchmark::State& state, int channels, int size, tag layout, ConvPass pass) {
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const dnnl::memory::desc act({kBatch, channels, size, size}, dt::f32, layout);
  const dnnl::memory::desc any_weights({channels, channels, 3, 3}, dt::f32, tag::any);
  const dnnl::memory::dims strides{1, 1}, padding{1, 1};
  const auto direct = dnnl::algorithm::convolution_direct;
  const dnnl::convolution_forward::primitive_desc fwd(
      {dnnl::prop_kind::forward_training, direct, act, any_weights, act, strides, padding, padding},
      engine);
  // Deterministic, unit-scale inputs (the values do not change the speed; no denormals).
  auto filled = [&](const dnnl::memory::desc& md) {
    dnnl::memory m(md, engine);
    float* p = static_cast<float*>(m.get_data_handle());
    for (std::size_t i = 0; i < md.get_size() / sizeof(float); ++i)
      p[i] = float(int((i * 2654435761u) >> 9 & 1023) - 512) / 512.f;
    return m;
  };
  const dnnl::memory src = filled(act), dst = filled(act);
  dnnl::primitive primitive;
  std::unordered_map<int, dnnl::memory> args;
  std::string kernel;
  switch (pass) {
    case ConvPass::forward:
      primitive = dnnl::convolution_forward(fwd);
      args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, filled(fwd.weights_desc())}, {DNNL_ARG_DST, dst}};
      kernel = fwd.impl_info_str();
      break;
    case ConvPass::backward_data: {
      const dnnl::convolution_backward_data::primitive_desc pd(
          {direct, act, any_weights, act, strides, padding, padding}, engine, fwd);
      primitive = dnnl::convolution_backward_data(pd);
      args = {{DNNL_ARG_DIFF_DST, dst}, {DNNL_ARG_WEIGHTS, filled(pd.weights_desc())},
              {DNNL_ARG_DIFF_SRC, src}};
      kernel = pd.impl_info_str();
      break;
    }
    case ConvPass::backward_weights: {
      const dnnl::convolution_backward_weights::primitive_desc pd(
          {direct, act, any_weights, act, strides, padding, padding}, engine, fwd);
      primitive = dnnl::convolution_backward_weights(pd);
      args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, dst},
              {DNNL_ARG_DIFF_WEIGHTS, dnnl::memory(pd.diff_weights_desc(), engine)}};
      kernel = pd.impl_info_str();
      break;
    }
  }
  primitive.execute(stream, args);  // warm-up
  stream.wait();
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    primitive.execute(stream, args);
    stream.wait();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double flops = 2.0 * kBatch * channels * size * size * channels * 9 * double(state.iterations());
  state.counters["GFLOP/s"] = flops / seconds / 1e9;
  state.counters["%peak"] = 100 * flops / seconds / peak_flops();
  state.SetLabel(kernel);
}

const bool kRegistered = [] {
  const char* pass_names[] = {"forward", "backward_data", "backward_weights"};
  for (const int size : {32, 16})
    for (const auto& [layout, layout_name] : {std::pair{tag::nhwc, "nhwc"}, std::pair{tag::nChw16c, "nChw16c"}})
      for (const ConvPass pass : {ConvPass::forward, ConvPass::backward_data, ConvPass::backward_weights})
        benchmark::RegisterBenchmark(
            fmt::format("conv_layout/16to16@{}/{}/{}", size, layout_name, pass_names[int(pass)]).c_str(),
            [size, layout, pass](benchmark::State& s) { time_conv(s, 16, size, layout, pass); })
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
  return true;
}();

}  // namespace
}  // namespace normlab
