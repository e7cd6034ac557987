// The machine's FP32 FMA peak, measured in the same run: the figure every "%peak" divides by.
// Hosts differ (one measured 405-449 GFLOP/s on two cores, another 265), and a VM drifts within
// minutes, so a constant would be wrong on most of them.
#pragma once

namespace normlab {

// FLOP/s of `threads` threads each running independent chains of fused multiply-adds on the
// widest vectors the CPU has (AVX-512, else AVX2+FMA, else scalar), best of a few short runs.
double measure_fma_peak(int threads, double seconds = 0.3);

// The peak measured once per process, with the threads the benchmarks use.
double peak_flops();

}  // namespace normlab
