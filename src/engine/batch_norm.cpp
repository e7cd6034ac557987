#include "normlab/engine/ops/batch_norm.hpp"

#include <stdexcept>
#include <string>

namespace normlab {

using flags = dnnl::normalization_flags;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

BatchNormOp::BatchNormOp(Builder& b, const Tensor& in, Config) : engine_(b.engine()), in_(in) {
  out_ = b.make_activation(in.shape, in.has_grad());
  const int norm_batch = b.norm_batch();
  groups_ = b.batch() / norm_batch;
  // One group is today's batch norm, primitive for primitive. Otherwise the primitives run on
  // one group: channels last, like the whole batch, so group g is the contiguous block of
  // images g*K .. g*K+K-1.
  group_md_ = groups_ == 1 ? in.md
                           : dnnl::memory::desc({norm_batch, in.shape.c, in.shape.h, in.shape.w},
                                                dt::f32, tag::nhwc);
  reduced_count_ = long(norm_batch) * in.shape.h * in.shape.w;
  if (reduced_count_ < 2)  // the running variance's unbiasing divides by count - 1
    throw std::invalid_argument("BatchNorm: a norm batch of " + std::to_string(norm_batch) +
                                " images of " + std::to_string(in.shape.h) + "x" +
                                std::to_string(in.shape.w) +
                                " gives one value per channel; the unbiased variance needs two");
  const auto attr = b.scratchpad_attr();
  const auto affine = flags::use_scale | flags::use_shift;
  train_pd_ = {{dnnl::prop_kind::forward_training, group_md_, kEpsilon, affine}, attr, engine_};
  eval_pd_ = {{dnnl::prop_kind::forward_inference, in.md, kEpsilon, affine | flags::use_global_stats},
              attr, engine_};
  bwd_pd_ = {{dnnl::prop_kind::backward, group_md_, group_md_, kEpsilon, affine},
             attr, engine_, train_pd_};
  for (const auto& pd : {train_pd_.scratchpad_desc(), eval_pd_.scratchpad_desc(), bwd_pd_.scratchpad_desc()})
    b.need_scratchpad(pd);

  const std::string name = b.next_name("bn");
  const dnnl::memory::desc channel_md({in.shape.c}, dt::f32, tag::a);
  scale_ = b.add_parameter(name + ".weight", {in.shape.c}, channel_md, /*decay=*/false, Init::ones);
  shift_ = b.add_parameter(name + ".bias", {in.shape.c}, channel_md, /*decay=*/false, Init::zeros);
  running_mean_ = b.add_buffer(name + ".running_mean", {in.shape.c}, Init::zeros);
  running_variance_ = b.add_buffer(name + ".running_var", {in.shape.c}, Init::ones);
  batch_mean_ = b.arena().reserve(Region::saved, groups_ * channel_md.get_size());
  batch_variance_ = b.arena().reserve(Region::saved, groups_ * channel_md.get_size());
  if (groups_ > 1) {
    group_diff_scale_ = b.arena().reserve(Region::saved, channel_md.get_size());
    group_diff_shift_ = b.arena().reserve(Region::saved, channel_md.get_size());
  }
}

void BatchNormOp::bind(const Arena& arena) {
  const dnnl::memory::desc channel_md({in_.shape.c}, dt::f32, tag::a);
  auto mem = [&](const dnnl::memory::desc& md, const Slot& slot) {
    return arena_memory(md, engine_, arena, slot);
  };
  // Group g's part of a slot that holds one md-sized block per group.
  auto group_mem = [&](const dnnl::memory::desc& md, const Slot& slot, int g) {
    return dnnl::memory(md, engine_, arena.at(slot) + std::size_t(g) * md.get_size());
  };
  const auto scratch = scratchpad_memory(engine_, arena);
  const auto scale = mem(channel_md, scale_), shift = mem(channel_md, shift_);
  const Slot diff_scale = arena.mirror(scale_, Region::gradients);
  const Slot diff_shift = arena.mirror(shift_, Region::gradients);
  train_.clear();
  backward_.clear();
  for (int g = 0; g < groups_; ++g) {
    const auto src = group_mem(group_md_, in_.value, g), dst = group_mem(group_md_, out_.value, g);
    const auto mean = group_mem(channel_md, batch_mean_, g);
    const auto variance = group_mem(channel_md, batch_variance_, g);
    train_.push_back(Call(dnnl::batch_normalization_forward(train_pd_),
                          {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCALE, scale},
                           {DNNL_ARG_SHIFT, shift}, {DNNL_ARG_MEAN, mean},
                           {DNNL_ARG_VARIANCE, variance}, {DNNL_ARG_SCRATCHPAD, scratch}}));
    if (!in_.has_grad()) continue;
    // The first group writes the gradients of scale and shift, the others a slot of their own
    // that backward() adds on.
    const bool first = g == 0;
    backward_.push_back(
        Call(dnnl::batch_normalization_backward(bwd_pd_),
             {{DNNL_ARG_SRC, src}, {DNNL_ARG_MEAN, mean}, {DNNL_ARG_VARIANCE, variance},
              {DNNL_ARG_DIFF_DST, group_mem(group_md_, out_.grad, g)}, {DNNL_ARG_SCALE, scale},
              // oneDNN 2.6 refuses to run backward without the shift, though it is unused.
              {DNNL_ARG_SHIFT, shift},
              {DNNL_ARG_DIFF_SRC, group_mem(group_md_, in_.grad, g)},
              {DNNL_ARG_DIFF_SCALE, mem(channel_md, first ? diff_scale : group_diff_scale_)},
              {DNNL_ARG_DIFF_SHIFT, mem(channel_md, first ? diff_shift : group_diff_shift_)},
              {DNNL_ARG_SCRATCHPAD, scratch}}));
  }
  eval_ = Call(dnnl::batch_normalization_forward(eval_pd_),
               {{DNNL_ARG_SRC, mem(in_.md, in_.value)}, {DNNL_ARG_DST, mem(out_.md, out_.value)},
                {DNNL_ARG_SCALE, scale}, {DNNL_ARG_SHIFT, shift},
                {DNNL_ARG_MEAN, mem(channel_md, running_mean_)},
                {DNNL_ARG_VARIANCE, mem(channel_md, running_variance_)},
                {DNNL_ARG_SCRATCHPAD, scratch}});
  mean_ = arena.as<float>(batch_mean_);
  variance_ = arena.as<float>(batch_variance_);
  running_mean_ptr_ = arena.as<float>(running_mean_);
  running_variance_ptr_ = arena.as<float>(running_variance_);
  diff_scale_ = arena.as<float>(diff_scale);
  diff_shift_ = arena.as<float>(diff_shift);
  if (groups_ > 1) {
    group_diff_scale_ptr_ = arena.as<float>(group_diff_scale_);
    group_diff_shift_ptr_ = arena.as<float>(group_diff_shift_);
  }
}

void BatchNormOp::forward(const dnnl::stream& s, Pass pass, const StepKey&) const {
  if (pass == Pass::eval) return eval_(s);
  const int channels = in_.shape.c;
  const float unbias = float(reduced_count_) / float(reduced_count_ - 1);
  // The running statistics move once per group, in group order: what PyTorch does over the
  // same images fed as consecutive mini-batches of K. (Averaging the groups' statistics into
  // one update would be the other choice; it forgets the old value more slowly.)
  for (int g = 0; g < groups_; ++g) {
    train_[g](s);
    const float* mean = mean_ + std::size_t(g) * channels;
    const float* variance = variance_ + std::size_t(g) * channels;
    for (int c = 0; c < channels; ++c) {
      running_mean_ptr_[c] += kMomentum * (mean[c] - running_mean_ptr_[c]);
      running_variance_ptr_[c] += kMomentum * (variance[c] * unbias - running_variance_ptr_[c]);
    }
  }
}

void BatchNormOp::backward(const dnnl::stream& s) const {
  if (backward_.empty()) return;  // no gradient flows into the input
  backward_[0](s);
  // Summed group after group: a fixed order, so the gradients are the same bit for bit run to run.
  for (int g = 1; g < groups_; ++g) {
    backward_[g](s);
    for (int c = 0; c < in_.shape.c; ++c) {
      diff_scale_[c] += group_diff_scale_ptr_[c];
      diff_shift_[c] += group_diff_shift_ptr_[c];
    }
  }
}

}  // namespace normlab
