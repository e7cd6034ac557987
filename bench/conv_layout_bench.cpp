// One 3x3 convolution alone, batch 128, each pass, in the kernels oneDNN offers for it:
//
// The layout question behind SeedNet's 16-channel convolutions: oneDNN's kernel for the
// channels-last activations normlab uses (nhwc) against its blocked one (nChw16c), on the
// problems of C2 (16 -> 16 channels at 32x32) and C5 (16 -> 16 at 16x16). With exactly 16
// channels the two layouts are the same bytes, so either could be used without a reorder;
// docs/performance.md says why normlab stays with nhwc.
//   conv_layout/<in>to<out>@<size>/<nhwc|nChw16c>/<forward|backward_data|backward_weights>
//
// The roads beyond f32 direct, on every SeedNet 3x3 problem with 16 or more channels: f32
// Winograd (blocked activations only) and bf16 (bf16 activations, weights and output gradient,
// f32 accumulation, weight gradient and input gradient, as a bf16 training mode would run).
// A bf16 kernel named "avx512_core" rather than "avx512_core_bf16" emulates bf16 on a CPU
// without AVX512_BF16 and is slower than f32.
//   conv_kernels/<in>to<out>@<size>/<f32-direct|f32-winograd|bf16-direct>/<pass>
// Each row's label is the kernel oneDNN picked. FLOPs are direct convolution's in every row.
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

struct Kernel {
  tag layout;
  dnnl::algorithm algorithm;
  dt low;  // the data type of the activations, weights and output gradient the kernel reads
};

void time_conv(benchmark::State& state, int in, int out, int size, Kernel k, ConvPass pass) {
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const dnnl::memory::desc src_md({kBatch, in, size, size}, k.low, k.layout);
  const dnnl::memory::desc diff_src_md({kBatch, in, size, size}, dt::f32, k.layout);
  const dnnl::memory::desc dst_md({kBatch, out, size, size}, dt::f32, k.layout);
  const dnnl::memory::desc diff_dst_md({kBatch, out, size, size}, k.low, k.layout);
  const dnnl::memory::desc any_weights({out, in, 3, 3}, k.low, tag::any);
  const dnnl::memory::desc any_weight_grads({out, in, 3, 3}, dt::f32, tag::any);
  const dnnl::memory::dims strides{1, 1}, padding{1, 1};
  const dnnl::convolution_forward::primitive_desc fwd(
      {dnnl::prop_kind::forward_training, k.algorithm, src_md, any_weights, dst_md, strides,
       padding, padding}, engine);
  // Deterministic, unit-scale inputs (the values do not change the speed; no denormals),
  // written as f32 and converted where the kernel reads bf16.
  auto filled = [&](const dnnl::memory::desc& md) {
    const dnnl::memory::desc f32_md(md.dims(), dt::f32, tag::abcd);
    dnnl::memory values(f32_md, engine), m(md, engine);
    float* p = static_cast<float*>(values.get_data_handle());
    for (std::size_t i = 0; i < f32_md.get_size() / sizeof(float); ++i)
      p[i] = float(int((i * 2654435761u) >> 9 & 1023) - 512) / 512.f;
    dnnl::reorder(values, m).execute(stream, values, m);
    stream.wait();
    return m;
  };
  dnnl::primitive primitive;
  std::unordered_map<int, dnnl::memory> args;
  std::string kernel;
  switch (pass) {
    case ConvPass::forward:
      primitive = dnnl::convolution_forward(fwd);
      args = {{DNNL_ARG_SRC, filled(src_md)}, {DNNL_ARG_WEIGHTS, filled(fwd.weights_desc())},
              {DNNL_ARG_DST, dnnl::memory(dst_md, engine)}};
      kernel = fwd.impl_info_str();
      break;
    case ConvPass::backward_data: {
      const dnnl::convolution_backward_data::primitive_desc pd(
          {k.algorithm, diff_src_md, any_weights, diff_dst_md, strides, padding, padding}, engine,
          fwd);
      primitive = dnnl::convolution_backward_data(pd);
      args = {{DNNL_ARG_DIFF_DST, filled(diff_dst_md)}, {DNNL_ARG_WEIGHTS, filled(pd.weights_desc())},
              {DNNL_ARG_DIFF_SRC, dnnl::memory(diff_src_md, engine)}};
      kernel = pd.impl_info_str();
      break;
    }
    case ConvPass::backward_weights: {
      const dnnl::convolution_backward_weights::primitive_desc pd(
          {k.algorithm, src_md, any_weight_grads, diff_dst_md, strides, padding, padding}, engine,
          fwd);
      primitive = dnnl::convolution_backward_weights(pd);
      args = {{DNNL_ARG_SRC, filled(src_md)}, {DNNL_ARG_DIFF_DST, filled(diff_dst_md)},
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
  const double flops = 2.0 * kBatch * out * size * size * in * 9 * double(state.iterations());
  state.counters["GFLOP/s"] = flops / seconds / 1e9;
  state.counters["%peak"] = 100 * flops / seconds / peak_flops();
  state.SetLabel(kernel);
}

void register_conv(const std::string& name, int in, int out, int size, Kernel k) {
  const char* pass_names[] = {"forward", "backward_data", "backward_weights"};
  for (const ConvPass pass : {ConvPass::forward, ConvPass::backward_data, ConvPass::backward_weights})
    benchmark::RegisterBenchmark(
        fmt::format("{}/{}", name, pass_names[int(pass)]).c_str(),
        [=](benchmark::State& s) {
          try {
            time_conv(s, in, out, size, k, pass);
          } catch (const dnnl::error& e) {  // a kernel this CPU or oneDNN build lacks
            s.SkipWithError(fmt::format("no kernel: {}", e.what()).c_str());
          }
        })
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
}

const bool kRegistered = [] {
  const auto direct = dnnl::algorithm::convolution_direct;
  const auto winograd = dnnl::algorithm::convolution_winograd;
  for (const int size : {32, 16})
    for (const auto& [layout, layout_name] : {std::pair{tag::nhwc, "nhwc"}, std::pair{tag::nChw16c, "nChw16c"}})
      register_conv(fmt::format("conv_layout/16to16@{}/{}", size, layout_name), 16, 16, size,
                    {layout, direct, dt::f32});
  struct Problem {
    int in, out, size;
  };
  for (const Problem p : {Problem{16, 16, 32}, {16, 16, 16}, {16, 32, 16}, {16, 32, 8}, {32, 32, 8}})
    for (const auto& [kernel, kernel_name] :
         {std::pair{Kernel{tag::nhwc, direct, dt::f32}, "f32-direct"},
          std::pair{Kernel{tag::nChw16c, winograd, dt::f32}, "f32-winograd"},
          std::pair{Kernel{tag::nhwc, direct, dt::bf16}, "bf16-direct"}})
      register_conv(fmt::format("conv_kernels/{}to{}@{}/{}", p.in, p.out, p.size, kernel_name),
                    p.in, p.out, p.size, kernel);
  return true;
}();

}  // namespace
}  // namespace normlab
