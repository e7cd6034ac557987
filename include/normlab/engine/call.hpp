// A oneDNN primitive with its arguments bound once to arena memory, replayed every step.
#pragma once

#include <utility>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "normlab/engine/arena.hpp"
#include "normlab/engine/chunks.hpp"

namespace normlab {

// A primitive with its arguments fixed once; replaying it allocates nothing on our side.
class Call {
 public:
  Call() = default;
  Call(dnnl::primitive primitive, std::vector<std::pair<int, dnnl::memory>> args);
  void operator()(const dnnl::stream& stream) const;
  // Inside a chunk task: the lane's stream, and its scratchpad in place of the bound one.
  void operator()(const Lane& lane) const;
  bool empty() const { return !primitive_; }

 private:
  static constexpr std::size_t kMaxArgs = 16;
  void execute(const dnnl::stream& stream, const dnnl_exec_arg_t* args) const;
  dnnl::primitive primitive_;
  int scratchpad_index_ = -1;  // in args_
  std::vector<dnnl::memory> memories_;  // keeps the handles alive
  std::vector<dnnl_exec_arg_t> args_;
};

// A memory object over arena storage.
dnnl::memory arena_memory(const dnnl::memory::desc& md, const dnnl::engine& engine,
                          const Arena& arena, const Slot& slot);
dnnl::memory scratchpad_memory(const dnnl::engine& engine, const Arena& arena);

}  // namespace normlab
