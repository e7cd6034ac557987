#include "normlab/engine/ops/conv.hpp"

#include <algorithm>
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

ConvOp::ConvOp(Builder& b, const Tensor& in, Config config)
    : engine_(b.engine()), chunks_(&b.chunks()), in_(in) {
  const int pad = config.kernel / 2;
  const Shape out_shape{config.out_channels, in.shape.h + 2 * pad - config.kernel + 1,
                        in.shape.w + 2 * pad - config.kernel + 1};
  out_ = b.make_activation(out_shape);
  const int chunks = b.chunks().count();

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
    if (own_forward_) packed_forward_ = b.arena().reserve(Region::weight_copies, packed_bytes);
    if (own_backward_data_) packed_backward_data_ = b.arena().reserve(Region::weight_copies, packed_bytes);
  }
  const dt kernel_type = bf16 ? dt::bf16 : dt::f32;

  // The activations of one chunk as the primitives see them: the network's own f32
  // channels-last buffers, or copies. Winograd takes only nChw16c, so it reads and writes
  // blocked f32 copies of all four; bf16 reads bf16 copies of the input and the output gradient
  // and writes f32 straight into the network's output and input gradient.
  in_chunk_md_ = b.chunk_md(in.shape);
  out_chunk_md_ = b.chunk_md(out_shape);
  const auto& in_chunk = in_chunk_md_;
  const auto& out_chunk = out_chunk_md_;
  src_md_ = diff_src_md_ = in_chunk;
  dst_md_ = diff_dst_md_ = out_chunk;
  if (winograd_) {
    src_md_ = diff_src_md_ = dnnl::memory::desc(in_chunk.dims(), dt::f32, tag::nChw16c);
    dst_md_ = diff_dst_md_ = dnnl::memory::desc(out_chunk.dims(), dt::f32, tag::nChw16c);
  } else if (bf16) {
    src_md_ = dnnl::memory::desc(in_chunk.dims(), dt::bf16, tag::nhwc);
    diff_dst_md_ = dnnl::memory::desc(out_chunk.dims(), dt::bf16, tag::nhwc);
  }
  // The input's copy lives from forward to backward; with Winograd the input gradient is then
  // written over it (backward weights has read it by then). The output-side copy holds the
  // output gradient, and with Winograd before that forward's blocked result. Each holds every
  // chunk, chunk after chunk.
  if (src_md_ != in_chunk) in_copy_ = b.arena().reserve(Region::saved, chunks * src_md_.get_size());
  if (diff_dst_md_ != out_chunk)
    out_copy_ = b.arena().reserve(Region::saved, chunks * diff_dst_md_.get_size());
  if (bf16) {  // the norms around it may write these copies in their own passes
    bf16_copies_ = &b.bf16_copies();
    b.bf16_copies().ask(in, Bf16Side::value, in_copy_);
    b.bf16_copies().ask(out_, Bf16Side::gradient, out_copy_);
  }

  plain_md_ = dnnl::memory::desc(weight_dims, dt::f32, tag::oihw);
  // format_tag::any lets each primitive pick the weight layout its fastest kernel wants. The
  // kernels read weights in their precision; the weight gradient is f32 in both.
  const dnnl::memory::desc any_weights(weight_dims, kernel_type, tag::any);
  const dnnl::memory::desc any_weight_grads(weight_dims, dt::f32, tag::any);
  const auto attr = b.scratchpad_attr();
  const auto algorithm = winograd_ ? dnnl::algorithm::convolution_winograd
                                   : dnnl::algorithm::convolution_direct;
  {
    const OneThreadWhileCreating one_thread;
    fwd_pd_ = {{dnnl::prop_kind::forward_training, algorithm, src_md_, any_weights, dst_md_,
                strides, padding, padding}, attr, engine_};
    bwd_weights_pd_ = {{algorithm, src_md_, any_weight_grads, diff_dst_md_, strides, padding,
                        padding}, attr, engine_, fwd_pd_};
    if (onednn_backward_data())
      bwd_data_pd_ = {{algorithm, diff_src_md_, any_weights, diff_dst_md_, strides, padding,
                       padding}, attr, engine_, fwd_pd_};
  }
  // Forward's primitive descriptor is the hint the backward ones need; its primitive, scratchpad
  // and weight copy only where oneDNN runs the forward pass.
  if (!own_forward_) {
    b.need_scratchpad(fwd_pd_.scratchpad_desc());
    fwd_weights_ = view_for(b, fwd_pd_.weights_desc());
  }
  b.need_scratchpad(bwd_weights_pd_.scratchpad_desc());
  grads_md_ = bwd_weights_pd_.diff_weights_desc();
  chunk_grads_ = b.arena().reserve_workspace(chunks * grads_md_.get_size());  // within backward
  if (onednn_backward_data()) {
    b.need_scratchpad(bwd_data_pd_.scratchpad_desc());
    bwd_data_weights_ = view_for(b, bwd_data_pd_.weights_desc());
  }

  const std::string name = b.next_name(config.kernel == 1 ? "conv1x1_" : "conv");
  weights_ = b.add_parameter(name + ".weight", {weight_dims.begin(), weight_dims.end()}, plain_md_,
                             /*decay=*/true, Init::by_fan_in);
  out_channels_ = config.out_channels;
  fan_in_ = long(in.shape.c) * config.kernel * config.kernel;
  if (in.has_grad()) {
    probes_ = &b.gradient_probes();
    probe_ = probes_->add(name);
    input_gradient_count_ = long(b.batch()) * in.shape.size();
  }
  if (config.standardize) {
    standardized_ = b.arena().reserve(Region::weight_copies, plain_md_.get_size());
    inverse_std_ = b.arena().reserve(Region::weight_copies, std::size_t(out_channels_) * sizeof(float));
  }
  // The forward writes its output chunk by chunk, unless normlab's own kernel computes the
  // whole batch at once (chunk_stages.hpp).
  stages_ = &b.chunk_stages();
  if (!own_forward_) stages_->offer(out_);
}

ConvOp::WeightsView ConvOp::view_for(Builder& b, const dnnl::memory::desc& wanted) const {
  WeightsView view{wanted, {}};
  if (wanted != plain_md_) view.copy = b.arena().reserve(Region::weight_copies, wanted.get_size());
  return view;
}

void ConvOp::bind(const Arena& arena) {
  const OneThreadWhileCreating one_thread;  // the reorders below run inside chunk tasks too
  auto mem = [&](const dnnl::memory::desc& md, const Slot& slot) {
    return arena_memory(md, engine_, arena, slot);
  };
  // Chunk k's part of a slot that holds md-sized blocks, chunk after chunk.
  auto chunk_mem = [&](const dnnl::memory::desc& md, const Slot& slot, int k) {
    return dnnl::memory(md, engine_, arena.at(slot) + std::size_t(k) * md.get_size());
  };
  auto reorder = [&](const dnnl::memory& from, const dnnl::memory& to) {
    return Call(dnnl::reorder(from, to), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
  };
  const auto scratch = scratchpad_memory(engine_, arena);
  // With standardisation the primitives read the standardised copy, never the raw weights.
  const auto weights = mem(plain_md_, standardized_.valid() ? standardized_ : weights_);
  const Slot grad_slot = arena.mirror(weights_, Region::gradients);
  weights_ptr_ = arena.as<float>(weights_);
  weight_grads_ptr_ = arena.as<float>(grad_slot);
  chunk_grads_ptr_ = arena.as<float>(chunk_grads_);
  if (standardized_.valid()) {
    standardized_ptr_ = arena.as<float>(standardized_);
    inverse_std_ptr_ = arena.as<float>(inverse_std_);
  }
  if (own_forward_) {
    packed_forward_ptr_ = arena.as<float>(packed_forward_);
    in_ptr_ = arena.as<float>(in_.value);
    out_ptr_ = arena.as<float>(out_.value);
  }
  if (in_.has_grad()) input_gradient_ = arena.as<float>(in_.grad);
  if (own_backward_data_) {
    packed_backward_data_ptr_ = arena.as<float>(packed_backward_data_);
    out_grad_ptr_ = arena.as<float>(out_.grad);
    in_grad_ptr_ = arena.as<float>(in_.grad);
  }
  // The memory a primitive reads for a weights view: the copy if there is one.
  auto view_memory = [&](const WeightsView& view, const dnnl::memory& plain) {
    return view.copy.valid() ? mem(view.md, view.copy) : plain;
  };
  dnnl::memory fwd_weights;
  after_forward_chunk_ = own_forward_ ? nullptr : stages_->agreed(out_);
  if (!own_forward_) {
    fwd_weights = view_memory(fwd_weights_, weights);
    if (fwd_weights_.copy.valid()) to_fwd_layout_ = reorder(weights, fwd_weights);
  }
  dnnl::memory bwd_weights;
  if (onednn_backward_data()) {
    bwd_weights = view_memory(bwd_data_weights_, weights);
    if (bwd_data_weights_.copy.valid()) to_bwd_data_layout_ = reorder(weights, bwd_weights);
  }
  // Chunk 0's gradient is where the chunks are summed when it needs a reorder to plain.
  if (grads_md_ != plain_md_)
    grad_to_plain_ = reorder(chunk_mem(grads_md_, chunk_grads_, 0), mem(plain_md_, grad_slot));

  const int chunks = chunks_->count();
  for (auto* calls : {&in_to_copy_, &copy_to_out_, &grad_to_copy_, &copy_to_in_grad_, &forward_,
                      &backward_data_, &backward_weights_}) {
    calls->clear();
    calls->resize(std::size_t(chunks));
  }
  const auto& in_chunk = in_chunk_md_;
  const auto& out_chunk = out_chunk_md_;
  auto written_by_neighbour = [&](const Tensor& t, Bf16Side side) {
    return bf16_copies_ != nullptr && bf16_copies_->agreed(t, side).valid();
  };
  const bool input_copy_written = written_by_neighbour(in_, Bf16Side::value);
  const bool gradient_copy_written = written_by_neighbour(out_, Bf16Side::gradient);
  for (int k = 0; k < chunks; ++k) {
    // The chunk's activation memories the primitives read and write (the network's own, or
    // the copies chosen in the constructor), and the reorders between the two.
    const auto own_in = chunk_mem(in_chunk, in_.value, k), own_out = chunk_mem(out_chunk, out_.value, k);
    const auto own_out_grad = chunk_mem(out_chunk, out_.grad, k);
    const auto own_in_grad = in_.has_grad() ? chunk_mem(in_chunk, in_.grad, k) : dnnl::memory();
    auto src = own_in, dst = own_out, diff_dst = own_out_grad, diff_src = own_in_grad;
    if (in_copy_.valid()) {
      src = chunk_mem(src_md_, in_copy_, k);
      if (!input_copy_written) in_to_copy_[k] = reorder(own_in, src);
    }
    if (out_copy_.valid()) {
      diff_dst = chunk_mem(diff_dst_md_, out_copy_, k);
      if (!gradient_copy_written) grad_to_copy_[k] = reorder(own_out_grad, diff_dst);
    }
    if (dst_md_ != out_chunk) {
      dst = chunk_mem(dst_md_, out_copy_, k);
      copy_to_out_[k] = reorder(dst, own_out);
    }
    if (in_.has_grad() && diff_src_md_ != in_chunk) {
      diff_src = chunk_mem(diff_src_md_, in_copy_, k);
      copy_to_in_grad_[k] = reorder(diff_src, own_in_grad);
    }
    if (!own_forward_)
      forward_[k] = Call(dnnl::convolution_forward(fwd_pd_), {{DNNL_ARG_SRC, src},
                                                              {DNNL_ARG_WEIGHTS, fwd_weights},
                                                              {DNNL_ARG_DST, dst},
                                                              {DNNL_ARG_SCRATCHPAD, scratch}});
    backward_weights_[k] = Call(dnnl::convolution_backward_weights(bwd_weights_pd_),
                                {{DNNL_ARG_SRC, src},
                                 {DNNL_ARG_DIFF_DST, diff_dst},
                                 {DNNL_ARG_DIFF_WEIGHTS, chunk_mem(grads_md_, chunk_grads_, k)},
                                 {DNNL_ARG_SCRATCHPAD, scratch}});
    if (onednn_backward_data())
      backward_data_[k] = Call(dnnl::convolution_backward_data(bwd_data_pd_),
                               {{DNNL_ARG_DIFF_DST, diff_dst},
                                {DNNL_ARG_WEIGHTS, bwd_weights},
                                {DNNL_ARG_DIFF_SRC, diff_src},
                                {DNNL_ARG_SCRATCHPAD, scratch}});
  }
}

void ConvOp::forward(const dnnl::stream& s, Pass pass, const StepKey&) const {
  // The optimizer changed the weights since the last step.
  if (standardized_ptr_ != nullptr) standardize_weights();
  if (own_forward_) {
    conv3x3::pack_forward_weights(problem_, primitive_weights(), packed_forward_ptr_);
    conv3x3::forward(problem_, in_ptr_, packed_forward_ptr_, out_ptr_);
    return;
  }
  to_fwd_layout_(s);
  chunks_->for_each([&](int k, const Lane& lane) {
    in_to_copy_[k](lane);
    forward_[k](lane);
    copy_to_out_[k](lane);
    if (after_forward_chunk_ != nullptr) after_forward_chunk_->run_chunk(k, pass);
  });
}

void ConvOp::backward(const dnnl::stream& s) const {
  if (onednn_backward_data()) to_bwd_data_layout_(s);
  chunks_->for_each([this](int k, const Lane& lane) {
    grad_to_copy_[k](lane);
    backward_weights_[k](lane);
    if (!onednn_backward_data()) return;
    backward_data_[k](lane);  // with Winograd, over the input's copy: backward weights has read it
    copy_to_in_grad_[k](lane);
  });
  sum_chunk_gradients();
  grad_to_plain_(s);
  if (standardized_ptr_ != nullptr) standardize_gradient();
  if (own_backward_data_) {
    conv3x3::pack_backward_data_weights(problem_, primitive_weights(), packed_backward_data_ptr_);
    conv3x3::backward_data(problem_, out_grad_ptr_, packed_backward_data_ptr_, in_grad_ptr_);
  }
  if (probe_ >= 0 && probes_->sampling) record_input_gradient_norm();
}

// Serial, in element order: the same bits for any thread count.
void ConvOp::record_input_gradient_norm() const {
  double squares = 0;
  for (long i = 0; i < input_gradient_count_; ++i) squares += double(input_gradient_[i]) * input_gradient_[i];
  probes_->norms[std::size_t(probe_)] = std::sqrt(squares);
}

// Element by element, ((g0 + g1) + g2) + ...: the same order whatever ran the chunks. A few
// thousand floats per chunk: serial.
void ConvOp::sum_chunk_gradients() const {
  const long n = long(grads_md_.get_size() / sizeof(float));
  const bool reorder_after = grads_md_ != plain_md_;
  float* sum = reorder_after ? chunk_grads_ptr_ : weight_grads_ptr_;
  if (!reorder_after) std::copy(chunk_grads_ptr_, chunk_grads_ptr_ + n, sum);
  for (int k = 1; k < chunks_->count(); ++k) {
    const float* g = chunk_grads_ptr_ + long(k) * n;
    for (long i = 0; i < n; ++i) sum[i] += g[i];
  }
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
