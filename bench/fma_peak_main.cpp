// fma-peak [--check] [--seconds S] [THREADS...]: the machine's FP32 FMA peak in GFLOP/s,
// measured now, for each thread count (default: 1 and every core), one "THREADS GFLOP/s" line
// each. The bench scripts run it first and divide by it.
//
// --check prints, beside each peak, the same chains run by plain threads timed for 2 s each
// and, when /proc/cpuinfo gives a clock, threads x clock x 2 FMA ports x FLOP per FMA
// instruction, each with its ratio to the peak. --seconds S times every measurement for S
// seconds instead (the peak's default is 1, the plain loop's 2).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "machine_peak.hpp"

namespace {

// The highest "cpu MHz" in /proc/cpuinfo, 0 if none. With frequency scaling it is the current
// clock; in a VM usually the nominal one, which turbo can exceed.
double cpuinfo_mhz() {
  std::ifstream in("/proc/cpuinfo");
  double best = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("cpu MHz", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon != std::string::npos) best = std::max(best, std::atof(line.c_str() + colon + 1));
  }
  return best;
}

int usage() {
  std::fprintf(stderr, "usage: fma-peak [--check] [--seconds S] [THREADS...]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bool check = false;
  double seconds = 0;  // 0: each measurement's default
  std::vector<int> counts;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--check") == 0) {
      check = true;
    } else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
      if (seconds <= 0) return usage();
    } else if (std::atoi(argv[i]) >= 1) {
      counts.push_back(std::atoi(argv[i]));
    } else {
      return usage();
    }
  }
  if (counts.empty()) counts = {1, int(std::thread::hardware_concurrency())};

  const normlab::FmaIsa& isa = normlab::fma_isa();
  bool positive = true;
  for (int threads : counts) {
    const double peak = normlab::measure_fma_peak(threads, seconds > 0 ? seconds : 1.0) / 1e9;
    if (!check) {
      std::printf("%d %.1f\n", threads, peak);
      continue;
    }
    const double plain_seconds = seconds > 0 ? seconds : 2.0;
    const double plain = normlab::plain_fma_rate(threads, plain_seconds) / 1e9;
    const double mhz = cpuinfo_mhz();
    std::printf("%d threads, %s (%d FLOP per FMA instruction, %d chains per thread)\n", threads,
                isa.name, isa.flops_per_instruction, isa.chains);
    std::printf("  fma-peak     %8.1f GFLOP/s\n", peak);
    std::printf("  plain loop   %8.1f GFLOP/s  (%.3g s per thread)  fma-peak / plain %.3f\n", plain,
                plain_seconds, peak / plain);
    if (mhz > 0) {
      const double theoretical = threads * mhz * 1e6 * 2 * isa.flops_per_instruction / 1e9;
      std::printf("  theoretical  %8.1f GFLOP/s  (%d x %.0f MHz x 2 FMA ports x %d FLOP)  "
                  "fma-peak / theoretical %.3f\n",
                  theoretical, threads, mhz, isa.flops_per_instruction, peak / theoretical);
    } else {
      std::printf("  theoretical  n/a (no cpu MHz in /proc/cpuinfo)\n");
    }
    positive = positive && peak > 0 && plain > 0;
  }
  return positive ? 0 : 1;
}
