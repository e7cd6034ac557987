// Why normlab's own convolution kernels (--conv normlab) hold every input value in a register
// for several FMAs: what an FMA costs by where its operands come from, one thread, L1-resident
// data, 24 independent accumulators (enough for the FMA latency on two ports):
//   fma_operands/registers            both factors in registers (the peak)
//   fma_operands/broadcast_each       one factor broadcast from memory for every FMA, as a
//                                     direct convolution with 16 output channels does
//   fma_operands/broadcast_per_3      a value broadcast once into a register feeds three FMAs
//                                     (three taps), as conv3x3_kernels.cpp does
//   fma_operands/vector_load_each     one factor a full vector loaded for every FMA
// On an Ice Lake host the memory-fed FMAs ran at about half the rate of the others.
#include <benchmark/benchmark.h>

#include <chrono>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "machine_peak.hpp"

namespace normlab {
namespace {

#if defined(__AVX512F__)

constexpr int kAccumulators = 24;

enum class Operands { registers, broadcast_each, broadcast_per_3, vector_load_each };

// 4 KiB of values (L1) and 16 weight vectors; `rounds` x 24 FMAs of 16 lanes.
template <Operands kind>
__attribute__((noinline)) void fma_loop(const float* values, const float* weights, long rounds,
                                        float* out) {
  __m512 acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_setzero_ps();
  const __m512 fixed = _mm512_set1_ps(values[0]);
  for (long r = 0; r < rounds; ++r) {
    const long at = (r & 31) * 32;  // walk the 4 KiB block
    if constexpr (kind == Operands::vector_load_each) {
      const __m512 w = _mm512_set1_ps(weights[r & 15]);
#pragma GCC unroll 24
      for (int i = 0; i < kAccumulators; ++i)
        acc[i] = _mm512_fmadd_ps(_mm512_loadu_ps(values + ((at + 16 * i) & 1023)), w, acc[i]);
    } else {
      const __m512 w0 = _mm512_loadu_ps(weights + 16 * (r & 7));
      if constexpr (kind == Operands::registers) {
#pragma GCC unroll 24
        for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_fmadd_ps(fixed, w0, acc[i]);
      } else if constexpr (kind == Operands::broadcast_each) {
#pragma GCC unroll 24
        for (int i = 0; i < kAccumulators; ++i)
          acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(values[at + i]), w0, acc[i]);
      } else {
        const __m512 w1 = _mm512_loadu_ps(weights + 16 * ((r + 1) & 7));
        const __m512 w2 = _mm512_loadu_ps(weights + 16 * ((r + 2) & 7));
#pragma GCC unroll 8
        for (int i = 0; i < kAccumulators / 3; ++i) {
          const __m512 v = _mm512_set1_ps(values[at + i]);
          acc[3 * i] = _mm512_fmadd_ps(v, w0, acc[3 * i]);
          acc[3 * i + 1] = _mm512_fmadd_ps(v, w1, acc[3 * i + 1]);
          acc[3 * i + 2] = _mm512_fmadd_ps(v, w2, acc[3 * i + 2]);
        }
      }
    }
  }
  for (int i = 0; i < kAccumulators; ++i) _mm512_storeu_ps(out + 16 * i, acc[i]);
}

template <Operands kind>
void time_fma(benchmark::State& state) {
  alignas(64) static float values[1024 + 64], weights[16 * 16], out[16 * kAccumulators];
  for (int i = 0; i < 1024 + 64; ++i) values[i] = 1e-3f * float(i % 7);
  for (float& w : weights) w = 1e-3f;
  constexpr long kRounds = 1 << 20;
  fma_loop<kind>(values, weights, kRounds / 16, out);  // warm-up
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    fma_loop<kind>(values, weights, kRounds, out);
    benchmark::DoNotOptimize(out);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double flops = double(kRounds) * kAccumulators * 16 * 2 * double(state.iterations());
  state.counters["GFLOP/s"] = flops / seconds / 1e9;
  // Against the one-thread peak (peak_flops() is for the benchmark's thread count).
  static const double one_thread_peak = measure_fma_peak(1);
  state.counters["%peak1"] = 100 * flops / seconds / one_thread_peak;
}

BENCHMARK(time_fma<Operands::registers>)->Name("fma_operands/registers")->UseRealTime();
BENCHMARK(time_fma<Operands::broadcast_each>)->Name("fma_operands/broadcast_each")->UseRealTime();
BENCHMARK(time_fma<Operands::broadcast_per_3>)->Name("fma_operands/broadcast_per_3")->UseRealTime();
BENCHMARK(time_fma<Operands::vector_load_each>)->Name("fma_operands/vector_load_each")->UseRealTime();

#endif

}  // namespace
}  // namespace normlab
