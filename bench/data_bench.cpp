// Data pipeline: loading CIFAR-10 once, and assembling one training/evaluation batch.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <vector>

#include "normlab/data/augment.hpp"
#include "normlab/data/cifar10.hpp"
#include "normlab/base/random.hpp"

namespace normlab {
namespace {

namespace fs = std::filesystem;

constexpr int kBatch = 128;

// $NORMLAB_DATA, else the repository's data/, else the shared copy beside the checkout.
std::optional<fs::path> find_data_dir() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("NORMLAB_DATA"); env != nullptr && env[0] != '\0')
    candidates.emplace_back(env);
  candidates.emplace_back("data/cifar-10-batches-bin");
  candidates.emplace_back("../shared/cifar-10-batches-bin");
  for (const fs::path& dir : candidates)
    if (fs::is_directory(dir)) return dir;
  return std::nullopt;
}

// Records to assemble from: the real training set if present, else random synthetic records.
struct BenchImages {
  std::optional<Cifar10> data;
  std::vector<std::uint8_t> synthetic;
  ImageSet set;

  BenchImages() {
    if (auto dir = find_data_dir()) {
      try {
        data.emplace(Cifar10::load(*dir));
        set = data->train();
        return;
      } catch (const std::exception&) {
        // fall through to synthetic records
      }
    }
    constexpr int kCount = 1024;
    synthetic.resize(std::size_t{kCount} * kRecordBytes);
    const RandomKey key(1, static_cast<Purpose>(5));  // a purpose no product stream uses
    for (std::size_t i = 0; i < synthetic.size(); ++i)
      synthetic[i] = static_cast<std::uint8_t>(key.bits(i));
    for (int i = 0; i < kCount; ++i) synthetic[static_cast<std::size_t>(i) * kRecordBytes] = i % kClasses;
    set = ImageSet{synthetic.data(), kCount};
  }
};

const BenchImages& bench_images() {
  static const BenchImages images;
  return images;
}

void BM_LoadCifar10(benchmark::State& state) {
  const auto dir = find_data_dir();
  if (!dir) {
    state.SkipWithError("no CIFAR-10 (set NORMLAB_DATA or run data/fetch-cifar10)");
    return;
  }
  std::size_t bytes = 0;
  for (auto _ : state) {
    try {
      const Cifar10 data = Cifar10::load(*dir);
      bytes = data.bytes();
      benchmark::DoNotOptimize(data.train().records);
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_LoadCifar10)->Unit(benchmark::kMillisecond)->UseRealTime();

// Arg 1: training batch (default augmentation); arg 0: evaluation batch (normalise only).
void BM_AssembleBatch(benchmark::State& state) {
  const ImageSet& set = bench_images().set;
  const bool augmented = state.range(0) != 0;
  const AugmentOptions options;
  const ChannelNormalisation norm;
  std::vector<int> order(set.count);
  shuffled_order(7, 0, set.count, order.data());
  std::vector<float> images(std::size_t{kBatch} * kImageBytes);
  std::vector<int> labels(kBatch);
  int start = 0;
  for (auto _ : state) {
    if (start + kBatch > set.count) start = 0;
    assemble_batch(set, order.data() + start, kBatch, augmented ? &options : nullptr, norm, 7, 0,
                   images.data(), labels.data());
    benchmark::DoNotOptimize(images.data());
    start += kBatch;
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetLabel(bench_images().data ? "real data" : "synthetic data");
}
BENCHMARK(BM_AssembleBatch)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace normlab
