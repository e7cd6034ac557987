#include "normlab/conv_options.hpp"

#include <oneapi/dnnl/dnnl.hpp>

#include "normlab/conv3x3_kernels.hpp"
#include "normlab/error.hpp"

namespace normlab {

const std::vector<std::string>& conv_mode_names() {
  static const std::vector<std::string> names = {"direct", "winograd", "normlab"};
  return names;
}

const std::vector<std::string>& precision_names() {
  static const std::vector<std::string> names = {"f32", "bf16"};
  return names;
}

ConvMode conv_mode_named(const std::string& name) {
  if (name == "direct") return ConvMode::direct;
  if (name == "winograd") return ConvMode::winograd;
  if (name == "normlab") return ConvMode::normlab;
  throw Error("unknown convolution mode '" + name + "' (choose direct, winograd or normlab)");
}

Precision precision_named(const std::string& name) {
  if (name == "f32") return Precision::f32;
  if (name == "bf16") return Precision::bf16;
  throw Error("unknown precision '" + name + "' (choose f32 or bf16)");
}

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
