#include "normlab/ops/conv.hpp"

namespace normlab {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

ConvOp::ConvOp(Builder& b, const Tensor& in, Config config) : engine_(b.engine()), in_(in) {
  const int pad = config.kernel / 2;
  const Shape out_shape{config.out_channels, in.shape.h + 2 * pad - config.kernel + 1,
                        in.shape.w + 2 * pad - config.kernel + 1};
  out_ = b.make_activation(out_shape);

  const dims strides{1, 1}, padding{pad, pad};
  const dims weight_dims{config.out_channels, in.shape.c, config.kernel, config.kernel};
  plain_md_ = dnnl::memory::desc(weight_dims, dt::f32, tag::oihw);
  // format_tag::any lets each primitive pick the weight layout its fastest kernel wants.
  const dnnl::memory::desc any_weights(weight_dims, dt::f32, tag::any);
  const auto attr = b.scratchpad_attr();
  const auto algorithm = dnnl::algorithm::convolution_direct;

  fwd_pd_ = {{dnnl::prop_kind::forward_training, algorithm, in.md, any_weights, out_.md, strides,
              padding, padding}, attr, engine_};
  bwd_weights_pd_ = {{algorithm, in.md, any_weights, out_.md, strides, padding, padding}, attr,
                     engine_, fwd_pd_};
  b.need_scratchpad(fwd_pd_.scratchpad_desc());
  b.need_scratchpad(bwd_weights_pd_.scratchpad_desc());
  fwd_weights_ = view_for(b, fwd_pd_.weights_desc());
  bwd_weights_grad_ = view_for(b, bwd_weights_pd_.diff_weights_desc());
  if (in.has_grad()) {
    bwd_data_pd_ = {{algorithm, in.md, any_weights, out_.md, strides, padding, padding}, attr,
                    engine_, fwd_pd_};
    b.need_scratchpad(bwd_data_pd_.scratchpad_desc());
    bwd_data_weights_ = view_for(b, bwd_data_pd_.weights_desc());
  }

  const std::string name = b.next_name(config.kernel == 1 ? "conv1x1_" : "conv");
  weights_ = b.add_parameter(name + ".weight", {weight_dims.begin(), weight_dims.end()}, plain_md_,
                             /*decay=*/true, Init::fan_in_uniform);
}

ConvOp::WeightsView ConvOp::view_for(Builder& b, const dnnl::memory::desc& wanted) const {
  WeightsView view{wanted, {}};
  if (wanted != plain_md_) view.copy = b.arena().reserve(Region::saved, wanted.get_size());
  return view;
}

void ConvOp::bind(const Arena& arena) {
  auto mem = [&](const dnnl::memory::desc& md, const Slot& slot) {
    return arena_memory(md, engine_, arena, slot);
  };
  auto reorder = [&](const dnnl::memory& from, const dnnl::memory& to) {
    return Call(dnnl::reorder(from, to), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
  };
  const auto scratch = scratchpad_memory(engine_, arena);
  const auto weights = mem(plain_md_, weights_);
  const auto weight_grads = mem(plain_md_, arena.mirror(weights_, Region::gradients));
  // The memory a primitive reads or writes for a view: the copy if there is one.
  auto view_memory = [&](const WeightsView& view, const dnnl::memory& plain) {
    return view.copy.valid() ? mem(view.md, view.copy) : plain;
  };

  const auto fwd_weights = view_memory(fwd_weights_, weights);
  if (fwd_weights_.copy.valid()) to_fwd_layout_ = reorder(weights, fwd_weights);
  forward_ = Call(dnnl::convolution_forward(fwd_pd_), {{DNNL_ARG_SRC, mem(in_.md, in_.value)},
                                                       {DNNL_ARG_WEIGHTS, fwd_weights},
                                                       {DNNL_ARG_DST, mem(out_.md, out_.value)},
                                                       {DNNL_ARG_SCRATCHPAD, scratch}});

  const auto grads = view_memory(bwd_weights_grad_, weight_grads);
  if (bwd_weights_grad_.copy.valid()) grad_to_plain_ = reorder(grads, weight_grads);
  backward_weights_ = Call(dnnl::convolution_backward_weights(bwd_weights_pd_),
                           {{DNNL_ARG_SRC, mem(in_.md, in_.value)},
                            {DNNL_ARG_DIFF_DST, mem(out_.md, out_.grad)},
                            {DNNL_ARG_DIFF_WEIGHTS, grads},
                            {DNNL_ARG_SCRATCHPAD, scratch}});

  if (in_.has_grad()) {
    const auto bwd_weights = view_memory(bwd_data_weights_, weights);
    if (bwd_data_weights_.copy.valid()) to_bwd_data_layout_ = reorder(weights, bwd_weights);
    backward_data_ = Call(dnnl::convolution_backward_data(bwd_data_pd_),
                          {{DNNL_ARG_DIFF_DST, mem(out_.md, out_.grad)},
                           {DNNL_ARG_WEIGHTS, bwd_weights},
                           {DNNL_ARG_DIFF_SRC, mem(in_.md, in_.grad)},
                           {DNNL_ARG_SCRATCHPAD, scratch}});
  }
}

void ConvOp::forward(const dnnl::stream& s, Pass) const {
  to_fwd_layout_(s);  // the optimizer changed the weights since the last step
  forward_(s);
}

void ConvOp::backward(const dnnl::stream& s) const {
  backward_weights_(s);
  grad_to_plain_(s);
  to_bwd_data_layout_(s);
  backward_data_(s);
}

}  // namespace normlab
