#include "normlab/engine/ops/relu.hpp"

namespace normlab {

ReluOp::ReluOp(Builder& b, const Tensor& in, Config) : engine_(b.engine()), in_(in) {
  out_ = b.in_place_output(in);
  // The backward reads the output (relu(x) > 0 exactly where x > 0), which is what makes
  // running in place possible; so nothing after this layer may overwrite the output.
  out_.read_again = true;
  const auto algorithm = dnnl::algorithm::eltwise_relu_use_dst_for_bwd;
  const auto attr = b.scratchpad_attr();
  dnnl::eltwise_forward::desc fwd(dnnl::prop_kind::forward_training, algorithm, in.md, 0.f, 0.f);
  fwd_pd_ = dnnl::eltwise_forward::primitive_desc(fwd, attr, engine_);
  dnnl::eltwise_backward::desc bwd(algorithm, in.md, in.md, 0.f, 0.f);
  bwd_pd_ = dnnl::eltwise_backward::primitive_desc(bwd, attr, engine_, fwd_pd_);
  b.need_scratchpad(fwd_pd_.scratchpad_desc());
  b.need_scratchpad(bwd_pd_.scratchpad_desc());
}

void ReluOp::bind(const Arena& arena) {
  auto mem = [&](const Slot& slot) { return arena_memory(in_.md, engine_, arena, slot); };
  const auto scratch = scratchpad_memory(engine_, arena);
  forward_ = Call(dnnl::eltwise_forward(fwd_pd_), {{DNNL_ARG_SRC, mem(in_.value)},
                                                  {DNNL_ARG_DST, mem(out_.value)},
                                                  {DNNL_ARG_SCRATCHPAD, scratch}});
  if (in_.has_grad())
    backward_ = Call(dnnl::eltwise_backward(bwd_pd_), {{DNNL_ARG_DST, mem(out_.value)},
                                                      {DNNL_ARG_DIFF_DST, mem(out_.grad)},
                                                      {DNNL_ARG_DIFF_SRC, mem(in_.grad)},
                                                      {DNNL_ARG_SCRATCHPAD, scratch}});
}

}  // namespace normlab
