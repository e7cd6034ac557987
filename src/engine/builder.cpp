#include "normlab/engine/builder.hpp"

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace normlab {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::memory::desc Builder::activation_md(Shape s) const {
  return dnnl::memory::desc({batch_, s.c, s.h, s.w}, dt::f32, tag::nhwc);
}

dnnl::memory::desc Builder::chunk_md(Shape s) const {
  return dnnl::memory::desc({chunks_.plan().images, s.c, s.h, s.w}, dt::f32, tag::nhwc);
}

Tensor Builder::make_activation(Shape s, bool with_grad) {
  Tensor t;
  t.shape = s;
  t.md = activation_md(s);
  t.value_id = next_tensor_id_++;
  t.grad_id = next_tensor_id_++;
  t.value = arena_.reserve(Region::activations, t.md.get_size());
  if (with_grad) t.grad = arena_.reserve(Region::activation_gradients, t.md.get_size());
  note_gradient_use(t);
  return t;
}

Tensor Builder::in_place_output(const Tensor& in) {
  if (in.read_again) return make_activation(in.shape, in.has_grad());
  return renewed(in);
}

std::string Builder::next_name(const std::string& kind) {
  return kind + std::to_string(++name_counts_[kind]);
}

Slot Builder::add_parameter(const std::string& name, std::vector<std::int64_t> torch_shape,
                            const dnnl::memory::desc& stored, bool decay, Init init) {
  Slot slot = arena_.reserve_parameter(stored.get_size() / sizeof(float));
  parameters_.push_back({name, std::move(torch_shape), slot, stored, decay, init});
  return slot;
}

Slot Builder::add_buffer(const std::string& name, std::vector<std::int64_t> torch_shape,
                         Init init) {
  std::int64_t n = 1;
  for (auto d : torch_shape) n *= d;
  dnnl::memory::desc md({n}, dt::f32, tag::a);
  Slot slot = arena_.reserve(Region::buffers, md.get_size());
  buffers_.push_back({name, std::move(torch_shape), slot, md, false, init});
  return slot;
}

dnnl::primitive_attr Builder::scratchpad_attr() const {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

Call::Call(dnnl::primitive primitive, std::vector<std::pair<int, dnnl::memory>> args)
    : primitive_(std::move(primitive)) {
  if (args.size() > kMaxArgs) throw std::logic_error("call: more primitive arguments than kMaxArgs");
  for (auto& [key, mem] : args) {
    if (key == DNNL_ARG_SCRATCHPAD) scratchpad_index_ = int(args_.size());
    memories_.push_back(mem);
    args_.push_back({key, mem.get()});
  }
}

void Call::operator()(const dnnl::stream& stream) const {
  if (!primitive_) return;  // e.g. no input gradient is wanted for the first layer
  execute(stream, args_.data());
}

void Call::operator()(const Lane& lane) const {
  if (!primitive_) return;
  dnnl_exec_arg_t args[kMaxArgs];
  std::copy(args_.begin(), args_.end(), args);
  if (scratchpad_index_ >= 0) args[scratchpad_index_].memory = lane.scratchpad;
  execute(*lane.stream, args);
}

void Call::execute(const dnnl::stream& stream, const dnnl_exec_arg_t* args) const {
  // The C API takes our prebuilt argument array; the C++ wrapper would build a vector per call.
  const dnnl_status_t status =
      dnnl_primitive_execute(primitive_.get(), stream.get(), int(args_.size()), args);
  // Arguments were validated when the network was built; failing here is a bug, and the hot
  // loop does not throw.
  if (status != dnnl_success) {
    std::fprintf(stderr, "normlab: oneDNN primitive execution failed (status %d)\n", int(status));
    std::abort();
  }
}

dnnl::memory arena_memory(const dnnl::memory::desc& md, const dnnl::engine& engine,
                          const Arena& arena, const Slot& slot) {
  return dnnl::memory(md, engine, arena.at(slot));
}

dnnl::memory scratchpad_memory(const dnnl::engine& engine, const Arena& arena) {
  const std::size_t bytes = arena.scratchpad_lane_bytes();  // lane 0: outside chunk tasks
  dnnl::memory::desc md({dnnl::memory::dim(bytes)}, dt::u8, tag::a);
  return dnnl::memory(md, engine, arena.region_begin(Region::scratchpad));
}

}  // namespace normlab
