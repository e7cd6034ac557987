#include "normlab/engine/ops/conv.hpp"

#include <cmath>

namespace normlab {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

bool ConvOp::winograd_supported(const Shape& in, int out_channels, int kernel) {
  return kernel == 3 && in.c % 16 == 0 && out_channels % 16 == 0;
}

// The layers where Winograd measured faster than direct inside the training step, layout
// copies included (normlab_bench "<net>/batch/" against "<net>/batch-winograd-everywhere/";
// the table per layer is in docs/performance.md, "Winograd"): only 32 -> 32 channels at 8x8.
// Winograd's transforms cost most where the channels are few and the images large, and its
// nChw16c copies cost more at the larger sizes.
bool ConvOp::winograd_pays(const Shape& in, int out_channels) {
  struct Layer {
    int in_channels, out_channels, size;
  };
  static constexpr Layer kFaster[] = {
      {32, 32, 8},
  };
  for (const Layer& l : kFaster)
    if (l.in_channels == in.c && l.out_channels == out_channels && l.size == in.h && l.size == in.w)
      return true;
  return false;
}

ConvOp::ConvOp(Builder& b, const Tensor& in, Config config) : engine_(b.engine()), in_(in) {
  const int pad = config.kernel / 2;
  const Shape out_shape{config.out_channels, in.shape.h + 2 * pad - config.kernel + 1,
                        in.shape.w + 2 * pad - config.kernel + 1};
  out_ = b.make_activation(out_shape);

  const dims strides{1, 1}, padding{pad, pad};
  const dims weight_dims{config.out_channels, in.shape.c, config.kernel, config.kernel};
  switch (b.conv_options().mode) {
    case ConvMode::direct:
    case ConvMode::normlab: winograd_ = false; break;
    case ConvMode::winograd:
      winograd_ = winograd_supported(in.shape, config.out_channels, config.kernel) &&
                  winograd_pays(in.shape, config.out_channels);
      break;
    case ConvMode::winograd_everywhere:
      winograd_ = winograd_supported(in.shape, config.out_channels, config.kernel);
      break;
  }
  const bool bf16 = b.conv_options().precision == Precision::bf16;
  problem_ = {b.batch(), in.shape.h, in.shape.w, in.shape.c, config.out_channels};
  if (b.conv_options().mode == ConvMode::normlab && !bf16 && config.kernel == 3 &&
      conv3x3::available()) {
    own_forward_ = conv3x3::forward_supported(problem_);
    own_backward_data_ = in.has_grad() && conv3x3::backward_data_supported(problem_);
    const std::size_t packed_bytes = conv3x3::packed_weights_floats(problem_) * sizeof(float);
    if (own_forward_) packed_forward_ = b.arena().reserve(Region::saved, packed_bytes);
    if (own_backward_data_) packed_backward_data_ = b.arena().reserve(Region::saved, packed_bytes);
  }
  const dt kernel_type = bf16 ? dt::bf16 : dt::f32;

  // The activations as the primitives see them: the network's own f32 channels-last buffers,
  // or copies. Winograd takes only nChw16c, so it reads and writes blocked f32 copies of all
  // four; bf16 reads bf16 copies of the input and the output gradient and writes f32 straight
  // into the network's output and input gradient.
  src_md_ = diff_src_md_ = in.md;
  dst_md_ = diff_dst_md_ = out_.md;
  if (winograd_) {
    src_md_ = diff_src_md_ = dnnl::memory::desc(in.md.dims(), dt::f32, tag::nChw16c);
    dst_md_ = diff_dst_md_ = dnnl::memory::desc(out_.md.dims(), dt::f32, tag::nChw16c);
  } else if (bf16) {
    src_md_ = dnnl::memory::desc(in.md.dims(), dt::bf16, tag::nhwc);
    diff_dst_md_ = dnnl::memory::desc(out_.md.dims(), dt::bf16, tag::nhwc);
  }
  // The input's copy lives from forward to backward; with Winograd the input gradient is then
  // written over it (backward weights has read it by then). The output-side copy holds the
  // output gradient, and with Winograd before that forward's blocked result.
  if (src_md_ != in.md) in_copy_ = b.arena().reserve(Region::saved, src_md_.get_size());
  if (diff_dst_md_ != out_.md) out_copy_ = b.arena().reserve(Region::saved, diff_dst_md_.get_size());

  plain_md_ = dnnl::memory::desc(weight_dims, dt::f32, tag::oihw);
  // format_tag::any lets each primitive pick the weight layout its fastest kernel wants. The
  // kernels read weights in their precision; the weight gradient is f32 in both.
  const dnnl::memory::desc any_weights(weight_dims, kernel_type, tag::any);
  const dnnl::memory::desc any_weight_grads(weight_dims, dt::f32, tag::any);
  const auto attr = b.scratchpad_attr();
  const auto algorithm = winograd_ ? dnnl::algorithm::convolution_winograd
                                   : dnnl::algorithm::convolution_direct;
  fwd_pd_ = {{dnnl::prop_kind::forward_training, algorithm, src_md_, any_weights, dst_md_,
              strides, padding, padding}, attr, engine_};
  bwd_weights_pd_ = {{algorithm, src_md_, any_weight_grads, diff_dst_md_, strides, padding,
                      padding}, attr, engine_, fwd_pd_};
  b.need_scratchpad(fwd_pd_.scratchpad_desc());
  b.need_scratchpad(bwd_weights_pd_.scratchpad_desc());
  fwd_weights_ = view_for(b, fwd_pd_.weights_desc());
  bwd_weights_grad_ = view_for(b, bwd_weights_pd_.diff_weights_desc());
  if (in.has_grad()) {
    bwd_data_pd_ = {{algorithm, diff_src_md_, any_weights, diff_dst_md_, strides, padding,
                     padding}, attr, engine_, fwd_pd_};
    b.need_scratchpad(bwd_data_pd_.scratchpad_desc());
    bwd_data_weights_ = view_for(b, bwd_data_pd_.weights_desc());
  }

  const std::string name = b.next_name(config.kernel == 1 ? "conv1x1_" : "conv");
  weights_ = b.add_parameter(name + ".weight", {weight_dims.begin(), weight_dims.end()}, plain_md_,
                             /*decay=*/true, Init::fan_in_uniform);
  out_channels_ = config.out_channels;
  fan_in_ = long(in.shape.c) * config.kernel * config.kernel;
  if (config.standardize) {
    standardized_ = b.arena().reserve(Region::saved, plain_md_.get_size());
    inverse_std_ = b.arena().reserve(Region::saved, std::size_t(out_channels_) * sizeof(float));
  }
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
  // With standardisation the primitives read the standardised copy, never the raw weights.
  const auto weights = mem(plain_md_, standardized_.valid() ? standardized_ : weights_);
  const Slot grad_slot = arena.mirror(weights_, Region::gradients);
  const auto weight_grads = mem(plain_md_, grad_slot);
  weights_ptr_ = arena.as<float>(weights_);
  weight_grads_ptr_ = arena.as<float>(grad_slot);
  if (standardized_.valid()) {
    standardized_ptr_ = arena.as<float>(standardized_);
    inverse_std_ptr_ = arena.as<float>(inverse_std_);
  }
  if (own_forward_) {
    packed_forward_ptr_ = arena.as<float>(packed_forward_);
    in_ptr_ = arena.as<float>(in_.value);
    out_ptr_ = arena.as<float>(out_.value);
  }
  if (own_backward_data_) {
    packed_backward_data_ptr_ = arena.as<float>(packed_backward_data_);
    out_grad_ptr_ = arena.as<float>(out_.grad);
    in_grad_ptr_ = arena.as<float>(in_.grad);
  }
  // The memory a primitive reads or writes for a view: the copy if there is one.
  auto view_memory = [&](const WeightsView& view, const dnnl::memory& plain) {
    return view.copy.valid() ? mem(view.md, view.copy) : plain;
  };

  // The activation memories the primitives read and write (the network's own, or the copies
  // chosen in the constructor), and the reorders between the two.
  const auto own_in = mem(in_.md, in_.value), own_out = mem(out_.md, out_.value);
  const auto own_out_grad = mem(out_.md, out_.grad);
  const auto own_in_grad = in_.has_grad() ? mem(in_.md, in_.grad) : dnnl::memory();
  auto src = own_in, dst = own_out, diff_dst = own_out_grad, diff_src = own_in_grad;
  if (in_copy_.valid()) {
    src = mem(src_md_, in_copy_);
    in_to_copy_ = reorder(own_in, src);
  }
  if (out_copy_.valid()) {
    diff_dst = mem(diff_dst_md_, out_copy_);
    grad_to_copy_ = reorder(own_out_grad, diff_dst);
  }
  if (dst_md_ != out_.md) {
    dst = mem(dst_md_, out_copy_);
    copy_to_out_ = reorder(dst, own_out);
  }
  if (in_.has_grad() && diff_src_md_ != in_.md) {
    diff_src = mem(diff_src_md_, in_copy_);
    copy_to_in_grad_ = reorder(diff_src, own_in_grad);
  }

  const auto fwd_weights = view_memory(fwd_weights_, weights);
  if (fwd_weights_.copy.valid()) to_fwd_layout_ = reorder(weights, fwd_weights);
  forward_ = Call(dnnl::convolution_forward(fwd_pd_), {{DNNL_ARG_SRC, src},
                                                       {DNNL_ARG_WEIGHTS, fwd_weights},
                                                       {DNNL_ARG_DST, dst},
                                                       {DNNL_ARG_SCRATCHPAD, scratch}});

  const auto grads = view_memory(bwd_weights_grad_, weight_grads);
  if (bwd_weights_grad_.copy.valid()) grad_to_plain_ = reorder(grads, weight_grads);
  backward_weights_ = Call(dnnl::convolution_backward_weights(bwd_weights_pd_),
                           {{DNNL_ARG_SRC, src},
                            {DNNL_ARG_DIFF_DST, diff_dst},
                            {DNNL_ARG_DIFF_WEIGHTS, grads},
                            {DNNL_ARG_SCRATCHPAD, scratch}});

  if (in_.has_grad()) {
    const auto bwd_weights = view_memory(bwd_data_weights_, weights);
    if (bwd_data_weights_.copy.valid()) to_bwd_data_layout_ = reorder(weights, bwd_weights);
    backward_data_ = Call(dnnl::convolution_backward_data(bwd_data_pd_),
                          {{DNNL_ARG_DIFF_DST, diff_dst},
                           {DNNL_ARG_WEIGHTS, bwd_weights},
                           {DNNL_ARG_DIFF_SRC, diff_src},
                           {DNNL_ARG_SCRATCHPAD, scratch}});
  }
}

void ConvOp::forward(const dnnl::stream& s, Pass, const StepKey&) const {
  // The optimizer changed the weights since the last step.
  if (standardized_ptr_ != nullptr) standardize_weights();
  if (own_forward_) {
    conv3x3::pack_forward_weights(problem_, primitive_weights(), packed_forward_ptr_);
    conv3x3::forward(problem_, in_ptr_, packed_forward_ptr_, out_ptr_);
    return;
  }
  to_fwd_layout_(s);
  in_to_copy_(s);
  forward_(s);
  copy_to_out_(s);
}

void ConvOp::backward(const dnnl::stream& s) const {
  grad_to_copy_(s);
  backward_weights_(s);
  grad_to_plain_(s);
  if (standardized_ptr_ != nullptr) standardize_gradient();
  if (own_backward_data_) {
    conv3x3::pack_backward_data_weights(problem_, primitive_weights(), packed_backward_data_ptr_);
    conv3x3::backward_data(problem_, out_grad_ptr_, packed_backward_data_ptr_, in_grad_ptr_);
    return;
  }
  to_bwd_data_layout_(s);
  backward_data_(s);  // with Winograd, over the input's copy: backward weights has read it
  copy_to_in_grad_(s);
}

// Per output channel o, over its fan_in weights: w_hat = (w - mean) * r, r = 1/sqrt(var + eps).
// The weights are a few thousand floats, so this is serial (and so deterministic).
void ConvOp::standardize_weights() const {
  for (long o = 0; o < out_channels_; ++o) {
    const float* w = weights_ptr_ + o * fan_in_;
    float* w_hat = standardized_ptr_ + o * fan_in_;
    double sum = 0;
    for (long i = 0; i < fan_in_; ++i) sum += w[i];
    const double mean = sum / double(fan_in_);
    double squares = 0;
    for (long i = 0; i < fan_in_; ++i) squares += (w[i] - mean) * (w[i] - mean);
    const double r = 1.0 / std::sqrt(squares / double(fan_in_) + double(kStandardizeEpsilon));
    inverse_std_ptr_[o] = float(r);
    for (long i = 0; i < fan_in_; ++i) w_hat[i] = float((w[i] - mean) * r);
  }
}

// The gradient arrives with respect to w_hat; with respect to w it is
//   r * (g - mean(g) - w_hat * mean(g * w_hat))   (layer-norm backward without the affine).
void ConvOp::standardize_gradient() const {
  for (long o = 0; o < out_channels_; ++o) {
    float* g = weight_grads_ptr_ + o * fan_in_;
    const float* w_hat = standardized_ptr_ + o * fan_in_;
    double sum_g = 0, sum_g_w = 0;
    for (long i = 0; i < fan_in_; ++i) {
      sum_g += g[i];
      sum_g_w += double(g[i]) * w_hat[i];
    }
    const double mean_g = sum_g / double(fan_in_), mean_g_w = sum_g_w / double(fan_in_);
    const double r = inverse_std_ptr_[o];
    for (long i = 0; i < fan_in_; ++i) g[i] = float(r * (g[i] - mean_g - w_hat[i] * mean_g_w));
  }
}

}  // namespace normlab
