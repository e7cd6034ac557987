#include "normlab/engine/ops/pool.hpp"

namespace normlab {

using dims = dnnl::memory::dims;

PoolOp::PoolOp(Builder& b, const Tensor& in, Config config) : engine_(b.engine()), in_(in) {
  const int kh = config.max ? 2 : in.shape.h, kw = config.max ? 2 : in.shape.w;
  out_ = b.make_activation({in.shape.c, in.shape.h / kh, in.shape.w / kw}, in.has_grad());
  const auto algorithm = config.max ? dnnl::algorithm::pooling_max
                                    : dnnl::algorithm::pooling_avg_exclude_padding;
  const dims strides{kh, kw}, kernel{kh, kw}, padding{0, 0};
  const auto attr = b.scratchpad_attr();
  dnnl::pooling_forward::desc fwd(dnnl::prop_kind::forward_training, algorithm, in.md, out_.md,
                                  strides, kernel, padding, padding);
  fwd_pd_ = dnnl::pooling_forward::primitive_desc(fwd, attr, engine_);
  dnnl::pooling_backward::desc bwd(algorithm, in.md, out_.md, strides, kernel, padding, padding);
  bwd_pd_ = dnnl::pooling_backward::primitive_desc(bwd, attr, engine_, fwd_pd_);
  b.need_scratchpad(fwd_pd_.scratchpad_desc());
  b.need_scratchpad(bwd_pd_.scratchpad_desc());
  if (config.max) workspace_ = b.arena().reserve(Region::saved, fwd_pd_.workspace_desc().get_size());
  b.next_name(config.max ? "maxpool" : "avgpool");
}

void PoolOp::bind(const Arena& arena) {
  auto mem = [&](const dnnl::memory::desc& md, const Slot& slot) {
    return arena_memory(md, engine_, arena, slot);
  };
  const auto scratch = scratchpad_memory(engine_, arena);
  std::vector<std::pair<int, dnnl::memory>> fwd_args{{DNNL_ARG_SRC, mem(in_.md, in_.value)},
                                                     {DNNL_ARG_DST, mem(out_.md, out_.value)},
                                                     {DNNL_ARG_SCRATCHPAD, scratch}};
  if (workspace_.valid()) fwd_args.push_back({DNNL_ARG_WORKSPACE, mem(fwd_pd_.workspace_desc(), workspace_)});
  forward_ = Call(dnnl::pooling_forward(fwd_pd_), fwd_args);
  if (!in_.has_grad()) return;  // pooling the network input: nothing to propagate
  std::vector<std::pair<int, dnnl::memory>> bwd_args{{DNNL_ARG_DIFF_DST, mem(out_.md, out_.grad)},
                                                     {DNNL_ARG_DIFF_SRC, mem(in_.md, in_.grad)},
                                                     {DNNL_ARG_SCRATCHPAD, scratch}};
  if (workspace_.valid()) bwd_args.push_back({DNNL_ARG_WORKSPACE, mem(fwd_pd_.workspace_desc(), workspace_)});
  backward_ = Call(dnnl::pooling_backward(bwd_pd_), bwd_args);
}

}  // namespace normlab
