// Work that runs on a chunk of a tensor right after the op that writes it wrote that chunk,
// inside the writer's own chunk task, while the chunk is still in cache: a BatchNorm's
// statistics of the convolution's output before it. One parallel region and one pass over
// the activation less per pair, and the same arithmetic on the same values in the same order,
// so the same bits (tests/fusion_test).
//
// The two agree while the network is built, as the bf16 copies do (bf16_copies.hpp): the
// writer offers, the reader asks with its stage; at bind each looks up whether the other came.
// A tensor rewritten in place or summed into gets a new id (Builder), so a stage never sees
// values that change after the writer's chunk. Enabled for the fused executor only: the
// layered one is the reference and what the per-layer benchmarks time, each layer alone.
//
// A stage may use the per-pass workspace (arena.hpp) only where the writer's pass does not:
// both would start at its first byte.
#pragma once

#include <vector>

#include "normlab/engine/tensor.hpp"

namespace normlab {

class ChunkStage {
 public:
  // Chunk `chunk` of the tensor's value is written, for `pass`.
  virtual void run_chunk(int chunk, Pass pass) const = 0;

 protected:
  ~ChunkStage() = default;
};

class ChunkStages {
 public:
  explicit ChunkStages(bool enabled = false) : enabled_(enabled) {}
  void offer(const Tensor& t);
  void ask(const Tensor& t, const ChunkStage* stage);
  // Once the network is built: the stage both sides agreed on, or nullptr.
  const ChunkStage* agreed(const Tensor& t) const;
  int agreed_count() const;

 private:
  struct Entry {
    int tensor = -1;  // the value's id
    bool offered = false;
    const ChunkStage* stage = nullptr;
  };
  Entry& entry(const Tensor& t);
  bool enabled_;
  std::vector<Entry> entries_;
};

}  // namespace normlab
