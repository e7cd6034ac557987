#include "normlab/engine/network.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "normlab/base/random.hpp"

namespace normlab {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

NetworkBase::NetworkBase(int batch, int norm_batch, int groups, ConvOptions conv, Shape input,
                         Executor executor)
    : engine_(dnnl::engine::kind::cpu, 0),
      stream_(engine_),
      chunks_(engine_, ChunkPlan::for_batch(batch)),
      builder_(engine_, batch, norm_batch, groups, conv, arena_, chunks_, probes_,
               /*chunk_stages=*/executor == Executor::fused),
      batch_(batch) {
  if (batch <= 0) throw std::invalid_argument("network: batch size must be positive");
  if (norm_batch < 0 || norm_batch > batch || (norm_batch > 0 && batch % norm_batch != 0))
    throw std::invalid_argument("network: norm batch " + std::to_string(norm_batch) +
                                " must divide the batch of " + std::to_string(batch));
  planar_input_.shape = input;
  planar_input_.md = dnnl::memory::desc({batch, input.c, input.h, input.w}, dt::f32, tag::nchw);
  planar_input_.value = arena_.reserve(Region::activations, planar_input_.md.get_size());
  input_ = builder_.make_activation(input, /*with_grad=*/false);
}

void NetworkBase::finish(const Tensor& logits) {
  logits_ = logits;
  parameters_ = builder_.parameters();
  buffers_ = builder_.buffers();
  arena_.set_scratchpad_lanes(chunks_.count());
  arena_.allocate();
  chunks_.bind(arena_);
  const dnnl::memory planar(planar_input_.md, engine_, arena_.at(planar_input_.value));
  const dnnl::memory channels_last(input_.md, engine_, arena_.at(input_.value));
  input_to_channels_last_ = Call(dnnl::reorder(planar, channels_last),
                                 {{DNNL_ARG_FROM, planar}, {DNNL_ARG_TO, channels_last}});
}

std::span<float> NetworkBase::region(Region r) const {
  return {reinterpret_cast<float*>(arena_.region_begin(r)), arena_.region_bytes(r) / sizeof(float)};
}

long NetworkBase::parameter_count() const {
  long n = 0;
  for (const auto& p : parameters_) {
    long size = 1;
    for (auto d : p.torch_shape) size *= d;
    n += size;
  }
  return n;
}

namespace {
dnnl::memory::desc torch_md(const ParameterInfo& p) {
  const dnnl::memory::dims dims(p.torch_shape.begin(), p.torch_shape.end());
  const tag plain[] = {tag::undef, tag::a, tag::ab, tag::abc, tag::abcd};
  return dnnl::memory::desc(dims, dt::f32, plain[dims.size()]);
}
}  // namespace

std::vector<float> NetworkBase::read(const ParameterInfo& p) const {
  const auto md = torch_md(p);
  std::vector<float> out(md.get_size() / sizeof(float));
  dnnl::memory from(p.stored, engine_, arena_.at(p.slot)), to(md, engine_, out.data());
  dnnl::stream stream = stream_;
  dnnl::reorder(from, to).execute(stream, from, to);
  stream.wait();
  return out;
}

void NetworkBase::write(const ParameterInfo& p, std::span<const float> torch_layout) {
  const auto md = torch_md(p);
  if (torch_layout.size() * sizeof(float) != md.get_size())
    throw std::invalid_argument("network: wrong size for " + p.name);
  dnnl::memory from(md, engine_, const_cast<float*>(torch_layout.data()));
  dnnl::memory to(p.stored, engine_, arena_.at(p.slot));
  dnnl::reorder(from, to).execute(stream_, from, to);
  stream_.wait();
}

void NetworkBase::initialise(std::uint64_t seed, InitScheme scheme) {
  const RandomKey init_key(seed, Purpose::init);
  auto fill = [&](const ParameterInfo& p, std::uint64_t index) {
    long size = 1, fan_in = 1;
    for (std::size_t d = 0; d < p.torch_shape.size(); ++d) {
      size *= p.torch_shape[d];
      if (d > 0) fan_in *= p.torch_shape[d];
    }
    std::vector<float> values(std::size_t(size), 0.f);
    const RandomKey key = init_key.then(index);
    const float bound = 1.f / std::sqrt(float(fan_in));
    const float he_std = std::sqrt(2.f / float(fan_in));
    constexpr float kTwoPi = 6.283185307179586f;
    for (long i = 0; i < size; ++i) {
      switch (p.init) {
        case Init::by_fan_in:
          if (scheme == InitScheme::he) {
            // Box-Muller from two uniforms of the weight's own counters; 1 - u keeps log finite.
            const float u1 = 1.f - key.uniform(2 * std::uint64_t(i)), u2 = key.uniform(2 * std::uint64_t(i) + 1);
            values[i] = he_std * std::sqrt(-2.f * std::log(u1)) * std::cos(kTwoPi * u2);
          } else {
            values[i] = (2.f * key.uniform(i) - 1.f) * bound;
          }
          break;
        case Init::ones: values[i] = 1.f; break;
        case Init::zeros: values[i] = 0.f; break;
      }
    }
    write(p, values);
  };
  std::uint64_t index = 0;
  for (const auto& p : parameters_) fill(p, index++);
  for (const auto& p : buffers_) fill(p, index++);
  const auto m = momentum();
  std::fill(m.begin(), m.end(), 0.f);
}

}  // namespace normlab
