// What every layer needs while the network is being built: the oneDNN engine, the batch size,
// the arena to reserve memory in, and the tables of parameters and buffers it registers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "normlab/engine/arena.hpp"
#include "normlab/engine/bf16_copies.hpp"
#include "normlab/engine/probes.hpp"
#include "normlab/engine/call.hpp"
#include "normlab/engine/chunk_stages.hpp"
#include "normlab/engine/chunks.hpp"
#include "normlab/engine/conv_options.hpp"
#include "normlab/net/shape.hpp"
#include "normlab/engine/tensor.hpp"

namespace normlab {

// How a tensor starts: PyTorch's defaults, so runs compare with the seed's.
enum class Init {
  by_fan_in,  // a convolution's weights: drawn by the InitScheme from the fan-in (init_scheme.hpp)
  ones,
  zeros,
};

// A trained tensor (or a running statistic), as the optimizer and the weight files see it.
struct ParameterInfo {
  std::string name;                      // e.g. "conv1.weight", "bn1.running_mean"
  std::vector<std::int64_t> torch_shape;  // PyTorch's order (OIHW)
  Slot slot;                             // Region::parameters (gradient and momentum mirror it)
  dnnl::memory::desc stored;             // the layout in the arena (oneDNN may block weights)
  bool decay = true;                     // weight decay applies (not to norm scales and shifts)
  Init init = Init::zeros;
};

class Builder {
 public:
  // norm_batch: images per BatchNorm statistics group (0: the whole batch); it divides batch.
  // groups: the group count of GroupNorm layers declared with kGroupsOfTheRun.
  // chunk_stages: whether ops run their neighbours' chunk stages (the fused executor).
  Builder(const dnnl::engine& engine, int batch, int norm_batch, int groups, ConvOptions conv,
          Arena& arena, const ChunkRunner& chunks, GradientProbes& probes, bool chunk_stages)
      : engine_(engine), batch_(batch), norm_batch_(norm_batch), groups_(groups), conv_(conv),
        arena_(arena), chunks_(chunks), probes_(probes),
        bf16_copies_(conv.precision == Precision::bf16 && conv.bf16_copies_by_writers &&
                     cpu_has_native_bf16()),
        chunk_stages_(chunk_stages) {}

  const dnnl::engine& engine() const { return engine_; }
  int batch() const { return batch_; }
  // The images BatchNorm computes one set of statistics over ("ghost" batch norm when fewer
  // than the batch); per-image norms ignore it.
  int norm_batch() const { return norm_batch_ > 0 ? norm_batch_ : batch_; }
  int groups() const { return groups_; }
  Arena& arena() { return arena_; }
  // How the batch splits into chunks, and the lanes that run them (chunks.hpp).
  const ChunkRunner& chunks() const { return chunks_; }
  const ConvOptions& conv_options() const { return conv_; }
  // Where convolutions record their input gradient's norm at sampled steps (probes.hpp).
  GradientProbes& gradient_probes() { return probes_; }

  // The layout between layers: channels last, which oneDNN's convolutions run fast on and
  // which keeps per-channel loops simple.
  dnnl::memory::desc activation_md(Shape s) const;
  // One chunk's images in that layout (a chunk's part of a buffer is contiguous).
  dnnl::memory::desc chunk_md(Shape s) const;
  Tensor make_activation(Shape s, bool with_grad = true);
  // The output of an element-wise layer that can run in place: its input's own value and
  // gradient buffers (one activation less in the arena, and writes to lines just read),
  // unless the input is read again, in which case fresh buffers.
  Tensor in_place_output(const Tensor& in);
  // The same buffers holding other values from here on (written in place, or summed into).
  Tensor renewed(const Tensor& t) {
    Tensor r = t;
    r.value_id = next_tensor_id_++;
    r.grad_id = next_tensor_id_++;
    return r;
  }
  // Where bf16 convolutions and the ops around them agree who converts (bf16_copies.hpp).
  Bf16Copies& bf16_copies() { return bf16_copies_; }
  const Bf16Copies& bf16_copies() const { return bf16_copies_; }
  // Where an op and its neighbour agree to run work in each other's chunk tasks (chunk_stages.hpp).
  ChunkStages& chunk_stages() { return chunk_stages_; }
  const ChunkStages& chunk_stages() const { return chunk_stages_; }

  // The arena's plan of activation gradients by lifetime: OpList starts each top-level layer
  // (layers inside a residual's body count as the residual), and notes which gradients a
  // layer's backward touches: its input's, and every one created while it is built.
  void begin_layer() {
    if (nesting_ == 0) ++layer_;
  }
  void enter_body() { ++nesting_; }
  void leave_body() { --nesting_; }
  void note_gradient_use(const Tensor& t) {
    if (t.has_grad()) arena_.note_use(t.grad, layer_);
  }

  // "conv" -> "conv1", "conv2", ...: names that read like the network's declaration.
  std::string next_name(const std::string& kind);
  int count_of(const std::string& kind) const {
    auto it = name_counts_.find(kind);
    return it == name_counts_.end() ? 0 : it->second;
  }

  Slot add_parameter(const std::string& name, std::vector<std::int64_t> torch_shape,
                     const dnnl::memory::desc& stored, bool decay, Init init);
  Slot add_buffer(const std::string& name, std::vector<std::int64_t> torch_shape, Init init);
  const std::vector<ParameterInfo>& parameters() const { return parameters_; }
  const std::vector<ParameterInfo>& buffers() const { return buffers_; }

  // Every primitive is created with a user scratchpad; this reserves room for its needs.
  dnnl::primitive_attr scratchpad_attr() const;
  void need_scratchpad(const dnnl::memory::desc& md) { arena_.reserve_scratchpad(md.get_size()); }

 private:
  dnnl::engine engine_;
  int batch_;
  int norm_batch_;
  int groups_;
  ConvOptions conv_;
  Arena& arena_;
  const ChunkRunner& chunks_;
  GradientProbes& probes_;
  std::map<std::string, int> name_counts_;
  int layer_ = 0, nesting_ = 0;
  int next_tensor_id_ = 0;
  Bf16Copies bf16_copies_;
  ChunkStages chunk_stages_;
  std::vector<ParameterInfo> parameters_;
  std::vector<ParameterInfo> buffers_;
};

}  // namespace normlab
