#include "normlab/train/provenance.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>

#include "build_commit.hpp"

namespace normlab {

namespace {

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

std::string isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

}  // namespace

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

nlohmann::json provenance(int threads) {
  const dnnl_version_t* v = dnnl_version();
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return {{"normlab", NORMLAB_VERSION},
          {"commit", NORMLAB_COMMIT},
          {"march", NORMLAB_MARCH},
          {"onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                         std::to_string(v->patch) + " (" + v->hash + ")"},
          {"onednn_isa", isa_name(dnnl::get_effective_cpu_isa())},
          {"onednn_max_cpu_isa", environment("ONEDNN_MAX_CPU_ISA").empty()
                                     ? environment("DNNL_MAX_CPU_ISA")
                                     : environment("ONEDNN_MAX_CPU_ISA")},
          {"cpu", cpu_model()},
          {"threads", threads},
          {"host", host},
          {"slurm_job", environment("SLURM_JOB_ID")},
          {"time", utc_now()}};
}

}  // namespace normlab
