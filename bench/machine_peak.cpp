#include "machine_peak.hpp"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace normlab {

namespace {

// 16 independent accumulators: enough to cover the FMA latency (4 cycles) times the FMA ports
// (2), so the loop is bound by throughput alone. Returns the FLOPs done.
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

__attribute__((target("avx2,fma"))) double fma_chains_avx2(long iterations, float seed) {
  __m256 acc[16];
  for (int k = 0; k < 16; ++k) acc[k] = _mm256_set1_ps(seed + float(k));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i)
    for (int k = 0; k < 16; ++k) acc[k] = _mm256_fmadd_ps(acc[k], a, b);
  __m256 sum = acc[0];
  for (int k = 1; k < 16; ++k) sum = _mm256_add_ps(sum, acc[k]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  volatile float sink = lanes[0];
  (void)sink;
  return double(iterations) * 16 * 8 * 2;
}

double fma_chains(long iterations, float seed) {
  if (__builtin_cpu_supports("avx512f")) return fma_chains_avx512(iterations, seed);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return fma_chains_avx2(iterations, seed);
  float acc[16];
  for (int k = 0; k < 16; ++k) acc[k] = seed + float(k);
  for (long i = 0; i < iterations; ++i)
    for (int k = 0; k < 16; ++k) acc[k] = acc[k] * 0.999999f + 1e-7f;
  volatile float sink = acc[0];
  (void)sink;
  return double(iterations) * 16 * 2;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

double measure_fma_peak(int threads, double seconds) {
  double best = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    double flops = 0;
    const double start = now();
    long iterations = 1 << 16;
    // Grow the work until one round takes long enough to time.
    while (true) {
      double round = 0;
#pragma omp parallel num_threads(threads) reduction(+ : round)
      round += fma_chains(iterations, float(omp_get_thread_num()));
      flops += round;
      if (now() - start >= seconds / 3) break;
      iterations *= 2;
    }
    best = std::max(best, flops / (now() - start));
  }
  return best;
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
