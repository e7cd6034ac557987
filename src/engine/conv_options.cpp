#include "normlab/engine/conv_options.hpp"

#include <oneapi/dnnl/dnnl.hpp>

#include "normlab/engine/conv3x3_kernels.hpp"
#include "normlab/base/error.hpp"

namespace normlab {

bool normlab_conv_kernels_built() { return conv3x3::available(); }

bool cpu_has_onednn_avx512_convolutions() {
  const auto have = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto avx512 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
  return (have & avx512) == avx512;
}

bool cpu_has_native_bf16() {
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

}  // namespace normlab
