// The unit of work: every batch is split into fixed chunks of consecutive images. A layer's
// pass over one chunk is one task; threads take chunks; whatever sums over the batch (norm
// statistics, weight gradients) is summed per chunk, then over the chunks in chunk order.
// The chunk size comes from the batch, never from the thread count, and every oneDNN primitive that runs on a chunk is created for one thread: so a run
// gives the same bits whatever --threads says.
#pragma once

#include <vector>

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include "normlab/engine/arena.hpp"

namespace normlab {

struct ChunkPlan {
  // 16 images of SeedNet's widest layer (32x32x16 floats, 1 MiB of input and output) fit a
  // core's L2 with room for the weights.
  static constexpr int kMaxImages = 16;
  int images = 1;  // per chunk
  int count = 1;   // chunks per batch

  // The largest chunk of at most kMaxImages images that divides the batch.
  static ChunkPlan for_batch(int batch);
};

// What one chunk task runs with: a stream and a scratchpad of its own. There is a lane per
// chunk, so however many threads run, no two running tasks share one.
struct Lane {
  const dnnl::stream* stream = nullptr;
  dnnl_memory_t scratchpad = nullptr;
};

class ChunkRunner {
 public:
  ChunkRunner(const dnnl::engine& engine, ChunkPlan plan);
  const ChunkPlan& plan() const { return plan_; }
  int count() const { return plan_.count; }
  // After the arena is allocated: one scratchpad memory per lane.
  void bind(const Arena& arena);

  // f(chunk, lane) for every chunk, spread over the threads. Chunk k always runs on lane k.
  template <class F>
  void for_each(F&& f) const {
    const int threads = omp_get_max_threads() < plan_.count ? omp_get_max_threads() : plan_.count;
    if (threads == 1) {  // no team of one: oneDNN would open a nested team inside it per call
      for (int k = 0; k < plan_.count; ++k) f(k, lanes_[k]);
      return;
    }
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int k = 0; k < plan_.count; ++k) f(k, lanes_[k]);
  }

 private:
  dnnl::engine engine_;
  ChunkPlan plan_;
  std::vector<dnnl::stream> streams_;
  std::vector<dnnl::memory> scratchpads_;
  std::vector<Lane> lanes_;
};

// While alive, oneDNN primitives are created for one thread (oneDNN 2.6 with OpenMP plans a
// primitive's work split for omp_get_max_threads() at creation). Run inside a chunk task, such
// a primitive does the same arithmetic in the same order whatever the run's thread count.
class OneThreadWhileCreating {
 public:
  OneThreadWhileCreating() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~OneThreadWhileCreating() { omp_set_num_threads(saved_); }
  OneThreadWhileCreating(const OneThreadWhileCreating&) = delete;
  OneThreadWhileCreating& operator=(const OneThreadWhileCreating&) = delete;

 private:
  int saved_;
};

}  // namespace normlab
