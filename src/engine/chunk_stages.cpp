#include "normlab/engine/chunk_stages.hpp"

namespace normlab {

ChunkStages::Entry& ChunkStages::entry(const Tensor& t) {
  for (Entry& e : entries_)
    if (e.tensor == t.value_id) return e;
  entries_.push_back({t.value_id, false, nullptr});
  return entries_.back();
}

void ChunkStages::offer(const Tensor& t) {
  if (enabled_ && t.value_id >= 0) entry(t).offered = true;
}

void ChunkStages::ask(const Tensor& t, const ChunkStage* stage) {
  if (enabled_ && t.value_id >= 0) entry(t).stage = stage;
}

const ChunkStage* ChunkStages::agreed(const Tensor& t) const {
  for (const Entry& e : entries_)
    if (e.tensor == t.value_id && e.offered) return e.stage;
  return nullptr;
}

int ChunkStages::agreed_count() const {
  int n = 0;
  for (const Entry& e : entries_) n += e.offered && e.stage != nullptr ? 1 : 0;
  return n;
}

}  // namespace normlab
