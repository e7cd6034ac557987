#include "normlab/ops/group_norm.hpp"

namespace normlab {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

GroupNormOp::GroupNormOp(Builder& b, const Tensor& in, Config config)
    : engine_(b.engine()), in_(in), batch_(b.batch()), groups_(config.groups) {
  out_ = b.make_activation(in.shape, in.has_grad());
  const Shape s = in.shape;
  planar_md_ = dnnl::memory::desc({batch_, s.c, s.h, s.w}, dt::f32, tag::nchw);
  rows_md_ = dnnl::memory::desc({long(batch_) * groups_, s.size() / groups_}, dt::f32, tag::ab);
  const dnnl::memory::desc stats_md({long(batch_) * groups_}, dt::f32, tag::a);
  const auto attr = b.scratchpad_attr();
  fwd_pd_ = {{dnnl::prop_kind::forward_training, rows_md_, stats_md, kEpsilon,
              dnnl::normalization_flags::none}, attr, engine_};
  bwd_pd_ = {{dnnl::prop_kind::backward_data, rows_md_, rows_md_, stats_md, kEpsilon,
              dnnl::normalization_flags::none}, attr, engine_, fwd_pd_};
  b.need_scratchpad(fwd_pd_.scratchpad_desc());
  b.need_scratchpad(bwd_pd_.scratchpad_desc());

  const std::string name = b.next_name(config.name);
  const dnnl::memory::desc channel_md({s.c}, dt::f32, tag::a);
  scale_ = b.add_parameter(name + ".weight", {s.c}, channel_md, /*decay=*/false, Init::ones);
  shift_ = b.add_parameter(name + ".bias", {s.c}, channel_md, /*decay=*/false, Init::zeros);
  auto& arena = b.arena();
  planar_x_ = arena.reserve(Region::saved, planar_md_.get_size());
  normalised_ = arena.reserve(Region::saved, planar_md_.get_size());
  mean_ = arena.reserve(Region::saved, stats_md.get_size());
  variance_ = arena.reserve(Region::saved, stats_md.get_size());
  if (in.has_grad()) {
    planar_grad_ = arena.reserve(Region::saved, planar_md_.get_size());
    partial_sums_ = arena.reserve(Region::saved, std::size_t(batch_) * s.c * 2 * sizeof(float));
  }
}

void GroupNormOp::bind(const Arena& arena) {
  auto mem = [&](const dnnl::memory::desc& md, const Slot& slot) {
    return arena_memory(md, engine_, arena, slot);
  };
  const dnnl::memory::desc stats_md({long(batch_) * groups_}, dt::f32, tag::a);
  const auto scratch = scratchpad_memory(engine_, arena);
  const auto mean = mem(stats_md, mean_), variance = mem(stats_md, variance_);
  auto reorder = [&](const dnnl::memory& from, const dnnl::memory& to) {
    return Call(dnnl::reorder(from, to), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
  };
  to_planar_ = reorder(mem(in_.md, in_.value), mem(planar_md_, planar_x_));
  normalise_ = Call(dnnl::layer_normalization_forward(fwd_pd_),
                    {{DNNL_ARG_SRC, mem(rows_md_, planar_x_)},
                     {DNNL_ARG_DST, mem(rows_md_, normalised_)},
                     {DNNL_ARG_MEAN, mean},
                     {DNNL_ARG_VARIANCE, variance},
                     {DNNL_ARG_SCRATCHPAD, scratch}});
  gamma_ = arena.as<float>(scale_);
  beta_ = arena.as<float>(shift_);
  xhat_ = arena.as<float>(normalised_);
  y_ = arena.as<float>(out_.value);
  if (in_.has_grad()) {
    gamma_grad_ = arena.as<float>(arena.mirror(scale_, Region::gradients));
    beta_grad_ = arena.as<float>(arena.mirror(shift_, Region::gradients));
    planar_grad_ptr_ = arena.as<float>(planar_grad_);
    partial_ = arena.as<float>(partial_sums_);
    grad_to_planar_ = reorder(mem(out_.md, out_.grad), mem(planar_md_, planar_grad_));
    // The normalised values are dead once the scale's gradient is taken, so the gradient
    // with respect to the input lands in their storage.
    normalise_backward_ = Call(dnnl::layer_normalization_backward(bwd_pd_),
                               {{DNNL_ARG_SRC, mem(rows_md_, planar_x_)},
                                {DNNL_ARG_MEAN, mean},
                                {DNNL_ARG_VARIANCE, variance},
                                {DNNL_ARG_DIFF_DST, mem(rows_md_, planar_grad_)},
                                {DNNL_ARG_DIFF_SRC, mem(rows_md_, normalised_)},
                                {DNNL_ARG_SCRATCHPAD, scratch}});
    grad_to_channels_last_ = reorder(mem(planar_md_, normalised_), mem(in_.md, in_.grad));
  }
}

void GroupNormOp::forward(const dnnl::stream& s, Pass) const {
  to_planar_(s);
  normalise_(s);
  const int C = in_.shape.c;
  const long hw = long(in_.shape.h) * in_.shape.w;
  // y[n, p, c] (channels last) = gamma[c] * xhat[n, c, p] + beta[c]
#pragma omp parallel for schedule(static)
  for (int n = 0; n < batch_; ++n) {
    const float* xhat = xhat_ + long(n) * C * hw;
    float* y = y_ + long(n) * C * hw;
    for (int c = 0; c < C; ++c)
      for (long p = 0; p < hw; ++p) y[p * C + c] = gamma_[c] * xhat[long(c) * hw + p] + beta_[c];
  }
}

void GroupNormOp::backward(const dnnl::stream& s) const {
  grad_to_planar_(s);
  const int C = in_.shape.c;
  const long hw = long(in_.shape.h) * in_.shape.w;
  // Per (sample, channel): sums for the scale and shift gradients, then dxhat = dy * gamma in
  // place. Summing the partials over samples in a fixed order keeps the result deterministic.
#pragma omp parallel for schedule(static)
  for (long nc = 0; nc < long(batch_) * C; ++nc) {
    const int c = int(nc % C);
    float* dy = planar_grad_ptr_ + nc * hw;
    const float* xhat = xhat_ + nc * hw;
    float dgamma = 0.f, dbeta = 0.f;
    for (long p = 0; p < hw; ++p) {
      dgamma += dy[p] * xhat[p];
      dbeta += dy[p];
      dy[p] *= gamma_[c];
    }
    partial_[2 * nc] = dgamma;
    partial_[2 * nc + 1] = dbeta;
  }
  for (int c = 0; c < C; ++c) {
    float dgamma = 0.f, dbeta = 0.f;
    for (int n = 0; n < batch_; ++n) {
      dgamma += partial_[2 * (long(n) * C + c)];
      dbeta += partial_[2 * (long(n) * C + c) + 1];
    }
    gamma_grad_[c] = dgamma;
    beta_grad_[c] = dbeta;
  }
  normalise_backward_(s);
  grad_to_channels_last_(s);
}

}  // namespace normlab
