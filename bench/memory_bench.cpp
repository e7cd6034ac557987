// What an element-wise pass can reach: y = a * x over f32 buffers the size of SeedNet's
// activations at batch 128, on the benchmark's threads (NORMLAB_THREADS), each thread a
// contiguous part as the layers split their work. GB/s counts the bytes read and written.
// The per-layer rows' GB/s (layers_bench.cpp) are read against these:
//   memory/scale/8MiB    the 32x32x16 activations (SeedNet's first layers)
//   memory/scale/2MiB    16x16x16
//   memory/scale/512KiB  8x8x16: fits each core's L2
//   memory/scale/64MiB   larger than the caches: main memory's bandwidth
#include <benchmark/benchmark.h>
#include <omp.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace normlab {
namespace {

void scale_pass(benchmark::State& state, long bytes) {
  const long n = bytes / long(sizeof(float));
  std::vector<float> x(std::size_t(n), 1.0f), y(std::size_t(n), 0.0f);
  const float* __restrict in = x.data();
  float* __restrict out = y.data();
  auto pass = [&] {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; ++i) out[i] = 0.5f * in[i];
  };
  pass();  // first touch and warm caches
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    pass();
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (seconds > 0) state.counters["GB/s"] = double(state.iterations()) * 2.0 * double(bytes) / seconds / 1e9;
}

const bool kRegistered = [] {
  for (const auto& [name, bytes] : {std::pair{"64MiB", 64L << 20}, std::pair{"8MiB", 8L << 20},
                                    std::pair{"2MiB", 2L << 20}, std::pair{"512KiB", 512L << 10}})
    benchmark::RegisterBenchmark((std::string("memory/scale/") + name).c_str(),
                                 [bytes](benchmark::State& s) { scale_pass(s, bytes); })
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  return true;
}();

}  // namespace
}  // namespace normlab
