#include "normlab/engine/ops/group_norm.hpp"

#include "normlab/engine/ops/channel_count.hpp"
#include "normlab/engine/ops/channel_passes.hpp"
#include "normlab/net/layers.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace normlab {

namespace {
int resolved_groups(const Builder& b, int groups, int channels) {
  if (groups == GroupNormOp::kOneChannelPerGroup) return channels;
  if (groups == kGroupsOfTheRun) return b.groups();
  return groups;
}
}  // namespace

GroupNormOp::GroupNormOp(Builder& b, const Tensor& in, Config config)
    : in_(in), fusion_(config.fusion), batch_(b.batch()),
      groups_(resolved_groups(b, config.groups, in.shape.c)), channels_(in.shape.c),
      pixels_(long(in.shape.h) * in.shape.w) {
  const std::string name = name_ = b.next_name(config.name);
  // TrainConfig::validate refuses a --groups that does not divide a layer; this catches the rest.
  if (groups_ < 1 || channels_ % groups_ != 0 || channels_ > kMaxChannels)
    throw std::invalid_argument("group norm " + name + ": " + std::to_string(channels_) +
                                " channels do not split into " + std::to_string(groups_) + " groups");
  out_ = b.make_activation(in.shape, in.has_grad());
  bf16_ = Bf16Writer(b.bf16_copies(), in_, out_);
  if (fusion_.after == After::relu) out_.read_again = true;  // the ReLU's backward reads it
  const dnnl::memory::desc channel_md({channels_}, dnnl::memory::data_type::f32,
                                      dnnl::memory::format_tag::a);
  scale_ = b.add_parameter(name + ".weight", {channels_}, channel_md, /*decay=*/false, Init::ones);
  shift_ = b.add_parameter(name + ".bias", {channels_}, channel_md, /*decay=*/false, Init::zeros);
  auto& arena = b.arena();
  const std::size_t stats_bytes = std::size_t(batch_) * groups_ * sizeof(float);
  mean_slot_ = arena.reserve(Region::saved, stats_bytes);
  rstd_slot_ = arena.reserve(Region::saved, stats_bytes);
  if (in.has_grad())
    partial_sums_ = arena.reserve(Region::saved, std::size_t(batch_) * channels_ * 2 * sizeof(float));
  if (fusion_.after == After::dropout)
    dropout_ = DropoutMask(b, long(batch_) * pixels_ * channels_, fusion_.dropout);
}

void GroupNormOp::bind(const Arena& arena) {
  x_ = arena.as<float>(in_.value);
  y_ = arena.as<float>(out_.value);
  bf16_.bind(arena);
  gamma_ = arena.as<float>(scale_);
  beta_ = arena.as<float>(shift_);
  mean_ = arena.as<float>(mean_slot_);
  rstd_ = arena.as<float>(rstd_slot_);
  if (fusion_.after == After::dropout) dropout_.bind(arena);
  if (in_.has_grad()) {
    dy_ = arena.as<float>(out_.grad);
    dx_ = arena.as<float>(in_.grad);
    gamma_grad_ = arena.as<float>(arena.mirror(scale_, Region::gradients));
    beta_grad_ = arena.as<float>(arena.mirror(shift_, Region::gradients));
    partial_ = arena.as<float>(partial_sums_);
  }
}

AfterState GroupNormOp::after_state(long sample) const {
  return after_state_at(fusion_.after, y_, dropout_.keep(), dropout_.scale(), sample * pixels_ * channels_);
}

void GroupNormOp::forward(const dnnl::stream&, Pass pass, const StepKey& step) const {
  with_fusion(fusion_.before, after_in_pass(fusion_.after, pass == Pass::eval), [&](auto before, auto after_kind) {
    with_channel_count<16, 32, 64>(channels_, [&](auto c) {
      forward_kernel<decltype(c)::value, decltype(before)::value, decltype(after_kind)::value>(step);
    });
  });
}

void GroupNormOp::backward(const dnnl::stream&) const {
  if (dx_ == nullptr) return;
  with_fusion(fusion_.before, fusion_.after, [&](auto before, auto after_kind) {
    with_channel_count<16, 32, 64>(channels_, [&](auto c) {
      backward_kernel<decltype(c)::value, decltype(before)::value, decltype(after_kind)::value>();
    });
  });
}

// Each sample is independent, so the work splits over samples and the result does not depend
// on the thread count. Sums run per channel in float over H*W values (vectorised across the
// contiguous channels), then per group in double.
template <int kChannels, Before kBefore, After kAfter>
void GroupNormOp::forward_kernel(const StepKey& step) const {
  const int C = kChannels > 0 ? kChannels : channels_, G = groups_, per_group = C / G;
  const long P = pixels_;
  const double count = double(P) * per_group;
#pragma omp parallel for schedule(static)
  for (int n = 0; n < batch_; ++n) {
    const float* __restrict x = x_ + long(n) * P * C;
    float* __restrict y = y_ + long(n) * P * C;
    float sum[kMaxChannels], channel_mean[kMaxChannels], a[kMaxChannels], b[kMaxChannels];
    // Two passes (mean, then squared deviations) keep the variance accurate when the mean is
    // large against the spread.
    for (int c = 0; c < C; ++c) sum[c] = 0.f;
    for (long p = 0; p < P; ++p)
      for (int c = 0; c < C; ++c) sum[c] += norm_input<kBefore>(x[p * C + c]);
    for (int g = 0; g < G; ++g) {
      double s = 0;
      for (int c = g * per_group; c < (g + 1) * per_group; ++c) s += sum[c];
      const float m = float(s / count);
      mean_[n * G + g] = m;
      for (int c = g * per_group; c < (g + 1) * per_group; ++c) channel_mean[c] = m;
    }
    for (int c = 0; c < C; ++c) sum[c] = 0.f;
    for (long p = 0; p < P; ++p)
      for (int c = 0; c < C; ++c) {
        const float d = norm_input<kBefore>(x[p * C + c]) - channel_mean[c];
        sum[c] += d * d;
      }
    for (int g = 0; g < G; ++g) {
      double s = 0;
      for (int c = g * per_group; c < (g + 1) * per_group; ++c) s += sum[c];
      const float r = float(1.0 / std::sqrt(s / count + double(kEpsilon)));
      rstd_[n * G + g] = r;
      // y = (x - mean) * rstd * gamma + beta = x * a + b
      for (int c = g * per_group; c < (g + 1) * per_group; ++c) {
        a[c] = r * gamma_[c];
        b[c] = beta_[c] - channel_mean[c] * a[c];
      }
    }
    if constexpr (kAfter == After::dropout) dropout_.draw(step, long(n) * P * C, long(n + 1) * P * C);
    scale_and_shift<kChannels, kBefore, kAfter>(x, y, P, C, a, b, after_state(n));
    bf16_.wrote_value(y_, long(n) * P * C, P * C);
  }
}

// With xhat = (x - mean) * rstd and M values per group:
//   dgamma_c = sum dy * xhat,  dbeta_c = sum dy  (over samples and pixels)
//   dx = rstd * (gamma_c dy - A_g - xhat B_g),  A_g = sum_g(gamma dy) / M,
//                                               B_g = sum_g(gamma dy xhat) / M
// which is one pass of per-channel sums and one pass of dx = k1 dy + k2 x + k3.
template <int kChannels, Before kBefore, After kAfter>
void GroupNormOp::backward_kernel() const {
  const int C = kChannels > 0 ? kChannels : channels_, G = groups_, per_group = C / G;
  const long P = pixels_;
  const double count = double(P) * per_group;
#pragma omp parallel for schedule(static)
  for (int n = 0; n < batch_; ++n) {
    const float* __restrict x = x_ + long(n) * P * C;
    const float* __restrict dy = dy_ + long(n) * P * C;
    float* __restrict dx = dx_ + long(n) * P * C;
    float channel_mean[kMaxChannels], sum_dy[kMaxChannels], sum_dy_xc[kMaxChannels];
    float k1[kMaxChannels], k2[kMaxChannels], k3[kMaxChannels];
    for (int c = 0; c < C; ++c) channel_mean[c] = mean_[n * G + c / per_group];
    gradient_sums<kChannels, kBefore, kAfter>(x, dy, P, C, channel_mean, sum_dy, sum_dy_xc, after_state(n));
    for (int g = 0; g < G; ++g) {
      const float r = rstd_[n * G + g], m = mean_[n * G + g];
      double a = 0, b = 0;
      for (int c = g * per_group; c < (g + 1) * per_group; ++c) {
        const float dgamma = sum_dy_xc[c] * r;
        partial_[2 * (long(n) * C + c)] = dgamma;
        partial_[2 * (long(n) * C + c) + 1] = sum_dy[c];
        a += double(gamma_[c]) * sum_dy[c];
        b += double(gamma_[c]) * dgamma;
      }
      const float A = float(a / count), B = float(b / count);
      for (int c = g * per_group; c < (g + 1) * per_group; ++c) {
        k1[c] = r * gamma_[c];
        k2[c] = -r * r * B;
        k3[c] = -r * A + r * r * B * m;
      }
    }
    input_gradient<kChannels, kBefore, kAfter>(x, dy, dx, P, C, k1, k2, k3, after_state(n));
    bf16_.wrote_gradient(dx_, long(n) * P * C, P * C);
  }
  // Summing the per-sample partials in a fixed order keeps the parameter gradients deterministic.
  for (int c = 0; c < C; ++c) {
    float dgamma = 0.f, dbeta = 0.f;
    for (int n = 0; n < batch_; ++n) {
      dgamma += partial_[2 * (long(n) * C + c)];
      dbeta += partial_[2 * (long(n) * C + c) + 1];
    }
    gamma_grad_[c] = dgamma;
    beta_grad_[c] = dbeta;
  }
}

NormStatistics GroupNormOp::statistics() const {
  const int per_group = channels_ / groups_;
  return channel_statistics(name_, x_, batch_, pixels_, channels_, fusion_.before == Before::relu, gamma_,
                            beta_, [&](long sample, int c) {
                              const long i = sample * groups_ + c / per_group;
                              return std::pair{mean_[i], rstd_[i]};
                            });
}

}  // namespace normlab
