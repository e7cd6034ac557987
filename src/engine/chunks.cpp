#include "normlab/engine/chunks.hpp"

namespace normlab {

ChunkPlan ChunkPlan::for_batch(int batch) {
  int images = 1;
  for (int k = 1; k <= kMaxImages && k <= batch; ++k)
    if (batch % k == 0) images = k;
  return {images, batch / images};
}

ChunkRunner::ChunkRunner(const dnnl::engine& engine, ChunkPlan plan) : engine_(engine), plan_(plan) {
  streams_.reserve(std::size_t(plan.count));
  for (int k = 0; k < plan.count; ++k) streams_.emplace_back(engine_);
}

void ChunkRunner::bind(const Arena& arena) {
  const dnnl::memory::desc md({dnnl::memory::dim(arena.scratchpad_lane_bytes())},
                              dnnl::memory::data_type::u8, dnnl::memory::format_tag::a);
  scratchpads_.clear();
  lanes_.clear();
  for (int k = 0; k < plan_.count; ++k) scratchpads_.emplace_back(md, engine_, arena.scratchpad_lane(k));
  for (int k = 0; k < plan_.count; ++k) lanes_.push_back({&streams_[k], scratchpads_[k].get()});
}

}  // namespace normlab
