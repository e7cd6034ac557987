// fma-peak [THREADS...]: the machine's FP32 FMA peak in GFLOP/s, measured now, for each thread
// count (default: 1 and every core). The bench scripts run it first and divide by it.
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "machine_peak.hpp"

int main(int argc, char** argv) {
  std::vector<int> counts;
  for (int i = 1; i < argc; ++i) counts.push_back(std::atoi(argv[i]));
  if (counts.empty()) counts = {1, int(std::thread::hardware_concurrency())};
  for (int threads : counts) {
    if (threads < 1) {
      std::fprintf(stderr, "fma-peak: thread counts are positive integers\n");
      return 2;
    }
    std::printf("%d %.1f\n", threads, normlab::measure_fma_peak(threads, 1.0) / 1e9);
  }
  return 0;
}
