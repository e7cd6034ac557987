// The machine's FP32 FMA peak, measured in the same run: the figure every "%peak" divides by.
// Hosts differ (one measured 405-449 GFLOP/s on two cores, another 265), and a VM drifts within
// minutes, so a constant would be wrong on most of them.
#pragma once

namespace normlab {

// The vector unit the FMA loops run on: AVX-512 if the CPU has it, else AVX2+FMA, else scalar.
struct FmaIsa {
  const char* name;          // "avx512", "avx2" or "scalar"
  int flops_per_instruction;  // 2 x lanes: 32 for AVX-512 f32, 16 for AVX2 f32
  int chains;                 // independent accumulators per thread
};
const FmaIsa& fma_isa();

// FLOP/s of `threads` threads each running independent chains of fused multiply-adds on the
// widest vectors the CPU has: the best of 5 trials of seconds / 5 each, after a warm-up outside
// the timed region; each thread times its own loop and the rates add up.
double measure_fma_peak(int threads, double seconds = 1.0);

// The cross-check: the same chains run by `threads` plain threads, each timing one run of
// `seconds` from its start (no warm-up, no trials); the sum of their rates.
double plain_fma_rate(int threads, double seconds = 2.0);

// The peak measured once per process, with the threads the benchmarks use.
double peak_flops();

}  // namespace normlab
