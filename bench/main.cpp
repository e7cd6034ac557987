// The one main() of normlab_bench; each *_bench.cpp file only registers benchmarks. The FMA
// peak every "%peak" column divides by is measured first, in this run, and printed with the
// context.
#include <benchmark/benchmark.h>

#include <string>

#include "machine_peak.hpp"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("fma_peak_gflops", std::to_string(normlab::peak_flops() / 1e9));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
