// The one main() of normlab_bench; each *_bench.cpp file only registers benchmarks.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
