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
// And normlab's own kernels (--conv normlab; forward and backward data, its weight gradient is
// oneDNN's), on the same problems and on the 3- and 10-channel ones (C1, C4):
//   conv_kernels/<in>to<out>@<size>/f32-normlab/<forward|backward_data>
// Each row's label is the kernel oneDNN picked. FLOPs are direct convolution's in every row.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "machine_peak.hpp"
#include "normlab/engine/conv3x3_kernels.hpp"
#include "normlab/engine/conv_options.hpp"

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

// Deterministic, unit-scale values (they do not change the speed; no denormals).
float fill_value(std::size_t i) { return float(int((i * 2654435761u) >> 9 & 1023) - 512) / 512.f; }

void report(benchmark::State& state, double seconds, int in, int out, int size) {
  const double flops = 2.0 * kBatch * out * size * size * in * 9 * double(state.iterations());
  state.counters["GFLOP/s"] = flops / seconds / 1e9;
  state.counters["%peak"] = 100 * flops / seconds / peak_flops();
}

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
  // The values written as f32 and converted where the kernel reads bf16.
  auto filled = [&](const dnnl::memory::desc& md) {
    const dnnl::memory::desc f32_md(md.dims(), dt::f32, tag::abcd);
    dnnl::memory values(f32_md, engine), m(md, engine);
    float* p = static_cast<float*>(values.get_data_handle());
    for (std::size_t i = 0; i < f32_md.get_size() / sizeof(float); ++i)
      p[i] = fill_value(i);
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
  report(state, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
         in, out, size);
  state.SetLabel(kernel);
}

// normlab's own kernels on the same problem, channels-last f32 buffers (64-byte aligned, as
// the arena's are).
void time_own_conv(benchmark::State& state, int in, int out, int size, ConvPass pass) {
  const conv3x3::Problem p{kBatch, size, size, in, out};
  if (!(pass == ConvPass::forward ? conv3x3::forward_supported(p)
                                  : conv3x3::backward_data_supported(p))) {
    state.SkipWithError("not a problem normlab's kernels take");
    return;
  }
  auto buffer = [](std::size_t floats) {
    std::unique_ptr<float[], decltype(&std::free)> b(
        static_cast<float*>(std::aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64)),
        &std::free);
    for (std::size_t i = 0; i < floats; ++i) b[i] = fill_value(i);
    return b;
  };
  const std::size_t in_floats = std::size_t(kBatch) * size * size * in;
  const std::size_t out_floats = std::size_t(kBatch) * size * size * out;
  auto weights = buffer(conv3x3::packed_weights_floats(p));
  auto packed = buffer(conv3x3::packed_weights_floats(p));
  auto src = buffer(pass == ConvPass::forward ? in_floats : out_floats);
  auto dst = buffer(pass == ConvPass::forward ? out_floats : in_floats);
  auto run = [&] {
    if (pass == ConvPass::forward) {
      conv3x3::pack_forward_weights(p, weights.get(), packed.get());
      conv3x3::forward(p, src.get(), packed.get(), dst.get());
    } else {
      conv3x3::pack_backward_data_weights(p, weights.get(), packed.get());
      conv3x3::backward_data(p, src.get(), packed.get(), dst.get());
    }
  };
  run();  // warm-up
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) run();
  report(state, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
         in, out, size);
  state.SetLabel("normlab:avx512");
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
  // oneDNN 2.6 has jit kernels for 16-channel blocks, Winograd and bf16 on AVX-512 CPUs only;
  // elsewhere it would time its reference code (minutes, and no answer to any question here).
  const bool avx512 = cpu_has_onednn_avx512_convolutions();
  for (const int size : {32, 16})
    for (const auto& [layout, layout_name] : {std::pair{tag::nhwc, "nhwc"}, std::pair{tag::nChw16c, "nChw16c"}})
      if (layout == tag::nhwc || avx512)
        register_conv(fmt::format("conv_layout/16to16@{}/{}", size, layout_name), 16, 16, size,
                    {layout, direct, dt::f32});
  struct Problem {
    int in, out, size;
  };
  for (const Problem p : {Problem{3, 16, 32}, {10, 16, 16}})
    register_conv(fmt::format("conv_kernels/{}to{}@{}/f32-direct", p.in, p.out, p.size), p.in,
                  p.out, p.size, {tag::nhwc, direct, dt::f32});
  for (const Problem p : {Problem{16, 16, 32}, {16, 16, 16}, {16, 32, 16}, {16, 32, 8}, {32, 32, 8}})
    for (const auto& [kernel, kernel_name] :
         {std::pair{Kernel{tag::nhwc, direct, dt::f32}, "f32-direct"},
          std::pair{Kernel{tag::nChw16c, winograd, dt::f32}, "f32-winograd"},
          std::pair{Kernel{tag::nhwc, direct, dt::bf16}, "bf16-direct"}})
      if ((kernel.layout == tag::nhwc && kernel.low == dt::f32) || avx512)
        register_conv(fmt::format("conv_kernels/{}to{}@{}/{}", p.in, p.out, p.size, kernel_name),
                      p.in, p.out, p.size, kernel);
  if (conv3x3::available())
    for (const Problem p : {Problem{3, 16, 32}, {10, 16, 16}, {16, 16, 32}, {16, 16, 16},
                            {16, 32, 16}, {16, 32, 8}, {32, 32, 8}})
      for (const auto& [pass, pass_name] : {std::pair{ConvPass::forward, "forward"},
                                            std::pair{ConvPass::backward_data, "backward_data"}}) {
        if (pass == ConvPass::backward_data && p.in % 16 != 0) continue;  // C1, C4: not taken
        benchmark::RegisterBenchmark(
            fmt::format("conv_kernels/{}to{}@{}/f32-normlab/{}", p.in, p.out, p.size, pass_name).c_str(),
            [p, pass](benchmark::State& s) { time_own_conv(s, p.in, p.out, p.size, pass); })
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      }
  return true;
}();

}  // namespace
}  // namespace normlab
