#include "machine_peak.hpp"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

namespace normlab {

namespace {

// Each kernel runs `iterations` rounds of independent chains acc = acc * a + b and returns the
// FLOPs done. The chains must cover the FMA latency (4-5 cycles) times the FMA ports (2), so
// 8-10 of them, for throughput alone to bound the loop; and they must all stay in registers
// beside the two constants: a chain spilled to the stack adds a store and a reload to its
// latency, and 16 chains on AVX2's 16 ymm registers measured about a third below peak.
// The values converge to b / (1 - a) = 0.1, so no chain ever goes subnormal or infinite.

// AVX-512 has 32 zmm registers: 16 chains + 2 constants.
__attribute__((target("avx512f"))) double fma_chains_avx512(long iterations, float seed) {
  __m512 acc[16];
  for (int k = 0; k < 16; ++k) acc[k] = _mm512_set1_ps(seed + float(k));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i)
    for (int k = 0; k < 16; ++k) acc[k] = _mm512_fmadd_ps(acc[k], a, b);
  __m512 sum = acc[0];
  for (int k = 1; k < 16; ++k) sum = _mm512_add_ps(sum, acc[k]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  volatile float sink = lanes[0];  // keeps the loop alive
  (void)sink;
  return double(iterations) * 16 * 16 * 2;
}

// AVX2 has 16 ymm registers: 12 chains + 2 constants.
__attribute__((target("avx2,fma"))) double fma_chains_avx2(long iterations, float seed) {
  __m256 acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = _mm256_set1_ps(seed + float(k));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i)
    for (int k = 0; k < 12; ++k) acc[k] = _mm256_fmadd_ps(acc[k], a, b);
  __m256 sum = acc[0];
  for (int k = 1; k < 12; ++k) sum = _mm256_add_ps(sum, acc[k]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  volatile float sink = lanes[0];
  (void)sink;
  return double(iterations) * 12 * 8 * 2;
}

double fma_chains_scalar(long iterations, float seed) {
  float acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = seed + float(k);
  for (long i = 0; i < iterations; ++i)
    for (int k = 0; k < 12; ++k) acc[k] = acc[k] * 0.999999f + 1e-7f;
  float sum = 0;
  for (int k = 0; k < 12; ++k) sum += acc[k];
  volatile float sink = sum;
  (void)sink;
  return double(iterations) * 12 * 2;
}

using Kernel = double (*)(long, float);

struct Dispatch {
  FmaIsa isa;
  Kernel kernel;
};

const Dispatch& dispatch() {
  static const Dispatch d = []() -> Dispatch {
    if (__builtin_cpu_supports("avx512f")) return {{"avx512", 32, 16}, fma_chains_avx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      return {{"avx2", 16, 12}, fma_chains_avx2};
    return {{"scalar", 2, 12}, fma_chains_scalar};
  }();
  return d;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Iterations between two reads of the clock: some 50-100 us of work, so reading it costs
// nothing measurable and a run overshoots its time by no more than that.
constexpr long kChunk = 1 << 14;

// Runs the chains on the calling thread for at least `seconds`; returns its FLOP/s.
double run_for(double seconds, float seed) {
  const Kernel kernel = dispatch().kernel;
  const double start = now();
  double flops = 0, elapsed = 0;
  do {
    flops += kernel(kChunk, seed);
    elapsed = now() - start;
  } while (elapsed < seconds);
  return flops / elapsed;
}

}  // namespace

const FmaIsa& fma_isa() { return dispatch().isa; }

double measure_fma_peak(int threads, double seconds) {
  constexpr int kTrials = 5;
  // The warm-up starts every thread and brings the cores to the clock they hold under FMA load
  // (AVX-512 frequency licence, turbo), all before the first timed trial.
  constexpr double kWarmUpSeconds = 0.1;
  std::vector<double> rates(std::size_t(kTrials) * threads, 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    run_for(kWarmUpSeconds, float(t));
    for (int trial = 0; trial < kTrials; ++trial) {
#pragma omp barrier
      // Each thread times itself: no fork, join or barrier wait is inside a timed region.
      rates[std::size_t(trial) * threads + t] = run_for(seconds / kTrials, float(t));
    }
  }
  double best = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    double sum = 0;
    for (int t = 0; t < threads; ++t) sum += rates[std::size_t(trial) * threads + t];
    best = std::max(best, sum);
  }
  return best;
}

double plain_fma_rate(int threads, double seconds) {
  std::vector<double> rates(std::size_t(threads), 0.0);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&rates, t, seconds] { rates[std::size_t(t)] = run_for(seconds, float(t)); });
  for (std::thread& w : workers) w.join();
  double sum = 0;
  for (double r : rates) sum += r;
  return sum;
}

double peak_flops() {
  static const double peak = [] {
    const char* env = std::getenv("NORMLAB_THREADS");
    const int threads = env ? std::max(1, std::atoi(env)) : 2;
    return measure_fma_peak(threads);
  }();
  return peak;
}

}  // namespace normlab
