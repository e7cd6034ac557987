#include "normlab/engine/ops/batch_norm.hpp"

#include "normlab/engine/ops/channel_count.hpp"
#include "normlab/engine/ops/channel_passes.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace normlab {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

BatchNormOp::BatchNormOp(Builder& b, const Tensor& in, Config config)
    : chunks_(&b.chunks()), in_(in), fusion_(config.fusion), channels_(in.shape.c),
      pixels_(long(in.shape.h) * in.shape.w) {
  out_ = b.make_activation(in.shape, in.has_grad());
  bf16_ = Bf16Writer(b.bf16_copies(), in_, out_);
  if (fusion_.after == After::relu) out_.read_again = true;  // the ReLU's backward reads it
  const int norm_batch = b.norm_batch();
  batch_ = b.batch();
  norm_batch_ = norm_batch;
  groups_ = batch_ / norm_batch;
  images_per_chunk_ = b.chunks().plan().images;
  if (channels_ > kMaxChannels)
    throw std::logic_error("BatchNorm: more than " + std::to_string(kMaxChannels) + " channels");
  reduced_count_ = long(norm_batch) * pixels_;
  if (reduced_count_ < 2)  // the running variance's unbiasing divides by count - 1
    throw std::invalid_argument("BatchNorm: a norm batch of " + std::to_string(norm_batch) +
                                " images of " + std::to_string(in.shape.h) + "x" +
                                std::to_string(in.shape.w) +
                                " gives one value per channel; the unbiased variance needs two");
  const std::string name = name_ = b.next_name("bn");
  const dnnl::memory::desc channel_md({channels_}, dt::f32, tag::a);
  scale_ = b.add_parameter(name + ".weight", {channels_}, channel_md, /*decay=*/false, Init::ones);
  shift_ = b.add_parameter(name + ".bias", {channels_}, channel_md, /*decay=*/false, Init::zeros);
  running_mean_ = b.add_buffer(name + ".running_mean", {channels_}, Init::zeros);
  running_variance_ = b.add_buffer(name + ".running_var", {channels_}, Init::ones);
  auto& arena = b.arena();
  const std::size_t per_group = std::size_t(groups_) * channels_;
  mean_slot_ = arena.reserve(Region::saved, per_group * sizeof(float));
  rstd_slot_ = arena.reserve(Region::saved, per_group * sizeof(float));
  coefficients_ = arena.reserve(Region::saved, 3 * per_group * sizeof(float));
  // The images' sums and the groups' totals live only within one forward or backward.
  const std::size_t sums_bytes = std::size_t(batch_) * 2 * channels_ * sizeof(double);
  image_sums_ = arena.reserve_workspace(sums_bytes + 2 * per_group * sizeof(double));
  if (fusion_.after == After::dropout)
    dropout_ = DropoutMask(b, long(batch_) * pixels_ * channels_, fusion_.dropout);
  // The moments go into the per-pass workspace, which the convolution's forward does not use.
  stages_ = &b.chunk_stages();
  stages_->ask(in_, &moment_chunks_);
}

void BatchNormOp::bind(const Arena& arena) {
  x_ = arena.as<float>(in_.value);
  y_ = arena.as<float>(out_.value);
  bf16_.bind(arena);
  gamma_ = arena.as<float>(scale_);
  beta_ = arena.as<float>(shift_);
  running_mean_ptr_ = arena.as<float>(running_mean_);
  running_variance_ptr_ = arena.as<float>(running_variance_);
  mean_ = arena.as<float>(mean_slot_);
  rstd_ = arena.as<float>(rstd_slot_);
  coefficients_ptr_ = arena.as<float>(coefficients_);
  image_sums_ptr_ = arena.as<double>(image_sums_);
  totals_ptr_ = image_sums_ptr_ + std::size_t(batch_) * 2 * channels_;
  if (fusion_.after == After::dropout) dropout_.bind(arena);
  moments_by_writer_ = stages_->agreed(in_) == &moment_chunks_;
  if (in_.has_grad()) {
    dy_ = arena.as<float>(out_.grad);
    dx_ = arena.as<float>(in_.grad);
    gamma_grad_ = arena.as<float>(arena.mirror(scale_, Region::gradients));
    beta_grad_ = arena.as<float>(arena.mirror(shift_, Region::gradients));
  }
}

// One image's per-channel mean and sum of squared deviations from it (its moments), in float
// over H*W values (a vector register per 16 channels), stored as double. The image is read
// twice, the second time from cache, so the batch crosses memory once; the groups' variance
// is then combined from the images' moments (Chan et al.), which stays accurate when the mean
// is large against the spread.
template <int kChannels, Before kBefore>
void BatchNormOp::image_moments(long image, double* moments) const {
  const int C = kChannels > 0 ? kChannels : channels_;
  const float* __restrict x = x_ + image * pixels_ * C;
  float sum[kMaxChannels], mean[kMaxChannels];
  for (int c = 0; c < C; ++c) sum[c] = 0.f;
  for (long p = 0; p < pixels_; ++p) {
#pragma omp simd
    for (int c = 0; c < C; ++c) sum[c] += norm_input<kBefore>(x[p * C + c]);
  }
  for (int c = 0; c < C; ++c) {
    mean[c] = sum[c] / float(pixels_);
    sum[c] = 0.f;
  }
  for (long p = 0; p < pixels_; ++p) {
#pragma omp simd
    for (int c = 0; c < C; ++c) {
      const float d = norm_input<kBefore>(x[p * C + c]) - mean[c];
      sum[c] += d * d;
    }
  }
  for (int c = 0; c < C; ++c) {
    moments[c] = mean[c];
    moments[C + c] = sum[c];
  }
}

template <int kChannels, Before kBefore, After kAfter>
void BatchNormOp::image_gradient_sums(long image, double* sums) const {
  const int C = kChannels > 0 ? kChannels : channels_;
  const float* mean = mean_ + long(group_of(image)) * C;
  const float* __restrict x = x_ + image * pixels_ * C;
  const float* __restrict dy = dy_ + image * pixels_ * C;
  float sum_dy[kMaxChannels], sum_dy_xc[kMaxChannels];
  gradient_sums<kChannels, kBefore, kAfter>(x, dy, pixels_, C, mean, sum_dy, sum_dy_xc, after_state(image));
  for (int c = 0; c < C; ++c) {
    sums[c] = sum_dy[c];
    sums[C + c] = sum_dy_xc[c];
  }
}

void BatchNormOp::group_totals(int offset, double* totals) const {
  const int C = channels_;
  const long stride = 2L * C;
  for (int g = 0; g < groups_; ++g) {
    double* t = totals + long(g) * C;
    for (int c = 0; c < C; ++c) t[c] = 0;
    for (long i = long(g) * norm_batch_; i < long(g + 1) * norm_batch_; ++i)
      for (int c = 0; c < C; ++c) t[c] += image_sums_ptr_[i * stride + offset + c];
  }
}

template <int kChannels, Before kBefore>
void BatchNormOp::chunk_moments(int chunk) const {
  const long stride = 2L * channels_;
  for (long i = long(chunk) * images_per_chunk_; i < long(chunk + 1) * images_per_chunk_; ++i)
    image_moments<kChannels, kBefore>(i, image_sums_ptr_ + i * stride);
}

void BatchNormOp::MomentChunks::run_chunk(int chunk, Pass pass) const {
  if (pass == Pass::eval) return;  // evaluation normalises by the running statistics
  with_fusion(op_.fusion_.before, After::none, [&](auto before, auto) {
    with_channel_count<16, 32, 64>(op_.channels_, [&](auto c) {
      op_.chunk_moments<decltype(c)::value, decltype(before)::value>(chunk);
    });
  });
}

AfterState BatchNormOp::after_state(long image) const {
  return after_state_at(fusion_.after, y_, dropout_.keep(), dropout_.scale(), image * pixels_ * channels_);
}

void BatchNormOp::forward(const dnnl::stream&, Pass pass, const StepKey& step) const {
  with_fusion(fusion_.before, after_in_pass(fusion_.after, pass == Pass::eval), [&](auto before, auto after_kind) {
    with_channel_count<16, 32, 64>(channels_, [&](auto c) {
      forward_kernel<decltype(c)::value, decltype(before)::value, decltype(after_kind)::value>(pass, step);
    });
  });
}

void BatchNormOp::backward(const dnnl::stream&) const {
  if (dx_ == nullptr) return;  // no gradient flows into the input
  with_fusion(fusion_.before, fusion_.after, [&](auto before, auto after_kind) {
    with_channel_count<16, 32, 64>(channels_, [&](auto c) {
      backward_kernel<decltype(c)::value, decltype(before)::value, decltype(after_kind)::value>();
    });
  });
}

template <int kChannels, Before kBefore, After kAfter>
void BatchNormOp::forward_kernel(Pass pass, const StepKey& step) const {
  const int C = kChannels > 0 ? kChannels : channels_;
  const long stride = 2L * C;
  // Per group: a (C floats), then b; y = x * a + b.
  float* coefficients = coefficients_ptr_;
  const bool eval = pass == Pass::eval;
  const long image_values = pixels_ * C;
  auto apply = [&](int chunk) {
    for (long i = long(chunk) * images_per_chunk_; i < long(chunk + 1) * images_per_chunk_; ++i) {
      const float* a = coefficients + (eval ? 0 : long(group_of(i)) * stride);
      if constexpr (kAfter == After::dropout) dropout_.draw(step, i * image_values, (i + 1) * image_values);
      scale_and_shift<kChannels, kBefore, kAfter>(x_ + i * image_values, y_ + i * image_values, pixels_, C,
                                          a, a + C, after_state(i));
      bf16_.wrote_value(y_, i * image_values, image_values);
    }
  };
  if (eval) {
    for (int c = 0; c < C; ++c) {
      const float r = 1.f / std::sqrt(running_variance_ptr_[c] + kEpsilon);
      coefficients[c] = r * gamma_[c];
      coefficients[C + c] = beta_[c] - running_mean_ptr_[c] * coefficients[c];
    }
    chunks_->for_each([&](int k, const Lane&) { apply(k); });
    return;
  }
  const double count = double(reduced_count_);
  if (!moments_by_writer_)  // else the convolution before computed them, chunk by chunk
    chunks_->for_each([&](int k, const Lane&) { chunk_moments<kChannels, kBefore>(k); });
  // Per group, in image order: mean = mean of the image means; squared deviations = the
  // images' own plus pixels * (image mean - mean)^2.
  double* squares = totals_ptr_;
  group_totals(0, squares);
  for (long i = 0; i < long(groups_) * C; ++i) mean_[i] = float(squares[i] / double(norm_batch_));
  for (int g = 0; g < groups_; ++g)
    for (int c = 0; c < C; ++c) {
      const long gi = long(g) * C + c;
      const double m = squares[gi] / double(norm_batch_);
      double total = 0;
      for (long i = long(g) * norm_batch_; i < long(g + 1) * norm_batch_; ++i) {
        const double d = image_sums_ptr_[i * stride + c] - m;
        total += image_sums_ptr_[i * stride + C + c] + double(pixels_) * d * d;
      }
      squares[gi] = total;
    }
  // The running statistics move once per group, in group order: what PyTorch does over the
  // same images fed as consecutive mini-batches of K. (Averaging the groups' statistics into
  // one update would be the other choice; it forgets the old value more slowly.)
  const double unbias = count / (count - 1);
  for (int g = 0; g < groups_; ++g) {
    float* a = coefficients + long(g) * stride;
    for (int c = 0; c < C; ++c) {
      const long i = long(g) * C + c;
      const double variance = squares[i] / count;
      const float r = float(1.0 / std::sqrt(variance + double(kEpsilon)));
      rstd_[i] = r;
      a[c] = r * gamma_[c];
      a[C + c] = beta_[c] - mean_[i] * a[c];
      running_mean_ptr_[c] += kMomentum * (mean_[i] - running_mean_ptr_[c]);
      running_variance_ptr_[c] += kMomentum * (float(variance * unbias) - running_variance_ptr_[c]);
    }
  }
  chunks_->for_each([&](int k, const Lane&) { apply(k); });
}

// With xhat = (x - mean) * rstd and M values per channel and group:
//   dgamma = sum dy * xhat,  dbeta = sum dy
//   dx = gamma rstd (dy - dbeta / M - xhat dgamma / M) = k1 dy + k2 x + k3
template <int kChannels, Before kBefore, After kAfter>
void BatchNormOp::backward_kernel() const {
  const int C = kChannels > 0 ? kChannels : channels_;
  const long stride = 2L * C;
  const double count = double(reduced_count_);
  chunks_->for_each([&](int k, const Lane&) {
    for (long i = long(k) * images_per_chunk_; i < long(k + 1) * images_per_chunk_; ++i)
      image_gradient_sums<kChannels, kBefore, kAfter>(i, image_sums_ptr_ + i * stride);
  });
  double* sum_dy = totals_ptr_;
  double* sum_dy_xc = totals_ptr_ + long(groups_) * C;
  group_totals(0, sum_dy);
  group_totals(C, sum_dy_xc);
  for (int c = 0; c < C; ++c) gamma_grad_[c] = beta_grad_[c] = 0.f;
  for (int g = 0; g < groups_; ++g) {
    float* k1 = coefficients_ptr_ + long(g) * 3 * C;
    for (int c = 0; c < C; ++c) {
      const long i = long(g) * C + c;
      const double r = rstd_[i], dgamma = sum_dy_xc[i] * r, dbeta = sum_dy[i];
      // Summed group after group: a fixed order.
      gamma_grad_[c] += float(dgamma);
      beta_grad_[c] += float(dbeta);
      const double gr = double(gamma_[c]) * r;
      k1[c] = float(gr);
      k1[C + c] = float(-gr * r * dgamma / count);
      k1[2 * C + c] = float(-gr * dbeta / count + gr * r * dgamma * mean_[i] / count);
    }
  }
  chunks_->for_each([&](int k, const Lane&) {
    for (long i = long(k) * images_per_chunk_; i < long(k + 1) * images_per_chunk_; ++i) {
      const float* k1 = coefficients_ptr_ + long(group_of(i)) * 3 * C;
      const long offset = i * pixels_ * C;
      input_gradient<kChannels, kBefore, kAfter>(x_ + offset, dy_ + offset, dx_ + offset, pixels_, C, k1,
                                         k1 + C, k1 + 2 * C, after_state(i));
      bf16_.wrote_gradient(dx_, offset, pixels_ * C);
    }
  });
}

NormStatistics BatchNormOp::statistics() const {
  const int C = channels_;
  return channel_statistics(name_, x_, batch_, pixels_, C, fusion_.before == Before::relu, gamma_, beta_,
                            [&](long image, int c) {
                              const long i = long(group_of(image)) * C + c;
                              return std::pair{mean_[i], rstd_[i]};
                            });
}

}  // namespace normlab
