#include "normlab/ops/batch_norm.hpp"

namespace normlab {

using flags = dnnl::normalization_flags;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

BatchNormOp::BatchNormOp(Builder& b, const Tensor& in, Config) : engine_(b.engine()), in_(in) {
  out_ = b.make_activation(in.shape, in.has_grad());
  reduced_count_ = long(b.batch()) * in.shape.h * in.shape.w;
  const auto attr = b.scratchpad_attr();
  const auto affine = flags::use_scale | flags::use_shift;
  train_pd_ = {{dnnl::prop_kind::forward_training, in.md, kEpsilon, affine}, attr, engine_};
  eval_pd_ = {{dnnl::prop_kind::forward_inference, in.md, kEpsilon, affine | flags::use_global_stats},
              attr, engine_};
  bwd_pd_ = {{dnnl::prop_kind::backward, in.md, in.md, kEpsilon, affine}, attr, engine_, train_pd_};
  for (const auto& pd : {train_pd_.scratchpad_desc(), eval_pd_.scratchpad_desc(), bwd_pd_.scratchpad_desc()})
    b.need_scratchpad(pd);

  const std::string name = b.next_name("bn");
  const dnnl::memory::desc channel_md({in.shape.c}, dt::f32, tag::a);
  scale_ = b.add_parameter(name + ".weight", {in.shape.c}, channel_md, /*decay=*/false, Init::ones);
  shift_ = b.add_parameter(name + ".bias", {in.shape.c}, channel_md, /*decay=*/false, Init::zeros);
  running_mean_ = b.add_buffer(name + ".running_mean", {in.shape.c}, Init::zeros);
  running_variance_ = b.add_buffer(name + ".running_var", {in.shape.c}, Init::ones);
  batch_mean_ = b.arena().reserve(Region::saved, channel_md.get_size());
  batch_variance_ = b.arena().reserve(Region::saved, channel_md.get_size());
}

void BatchNormOp::bind(const Arena& arena) {
  const dnnl::memory::desc channel_md({in_.shape.c}, dt::f32, tag::a);
  auto mem = [&](const dnnl::memory::desc& md, const Slot& slot) {
    return arena_memory(md, engine_, arena, slot);
  };
  const auto scratch = scratchpad_memory(engine_, arena);
  const auto src = mem(in_.md, in_.value), dst = mem(out_.md, out_.value);
  const auto scale = mem(channel_md, scale_), shift = mem(channel_md, shift_);
  const auto mean = mem(channel_md, batch_mean_), variance = mem(channel_md, batch_variance_);
  train_ = Call(dnnl::batch_normalization_forward(train_pd_),
                {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCALE, scale},
                 {DNNL_ARG_SHIFT, shift}, {DNNL_ARG_MEAN, mean}, {DNNL_ARG_VARIANCE, variance},
                 {DNNL_ARG_SCRATCHPAD, scratch}});
  eval_ = Call(dnnl::batch_normalization_forward(eval_pd_),
               {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCALE, scale},
                {DNNL_ARG_SHIFT, shift}, {DNNL_ARG_MEAN, mem(channel_md, running_mean_)},
                {DNNL_ARG_VARIANCE, mem(channel_md, running_variance_)},
                {DNNL_ARG_SCRATCHPAD, scratch}});
  if (in_.has_grad())
    backward_ = Call(dnnl::batch_normalization_backward(bwd_pd_),
                     {{DNNL_ARG_SRC, src}, {DNNL_ARG_MEAN, mean}, {DNNL_ARG_VARIANCE, variance},
                      {DNNL_ARG_DIFF_DST, mem(out_.md, out_.grad)}, {DNNL_ARG_SCALE, scale},
                      // oneDNN 2.6 refuses to run backward without the shift, though it is unused.
                      {DNNL_ARG_SHIFT, shift},
                      {DNNL_ARG_DIFF_SRC, mem(in_.md, in_.grad)},
                      {DNNL_ARG_DIFF_SCALE, mem(channel_md, arena.mirror(scale_, Region::gradients))},
                      {DNNL_ARG_DIFF_SHIFT, mem(channel_md, arena.mirror(shift_, Region::gradients))},
                      {DNNL_ARG_SCRATCHPAD, scratch}});
  mean_ = arena.as<float>(batch_mean_);
  variance_ = arena.as<float>(batch_variance_);
  running_mean_ptr_ = arena.as<float>(running_mean_);
  running_variance_ptr_ = arena.as<float>(running_variance_);
}

void BatchNormOp::forward(const dnnl::stream& s, Pass pass) const {
  if (pass == Pass::eval) return eval_(s);
  train_(s);
  const float unbias = float(reduced_count_) / float(reduced_count_ - 1);
  for (int c = 0; c < in_.shape.c; ++c) {
    running_mean_ptr_[c] += kMomentum * (mean_[c] - running_mean_ptr_[c]);
    running_variance_ptr_[c] += kMomentum * (variance_[c] * unbias - running_variance_ptr_[c]);
  }
}

}  // namespace normlab
