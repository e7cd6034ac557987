// Where and how a run was made, so runs gathered from a cluster can be told apart and
// reproduced: normlab's version and commit, the -march it was built for, oneDNN's version and
// the instruction set it dispatches to, the CPU, threads, host and the time.
#pragma once

#include <nlohmann/json.hpp>

namespace normlab {

// {"normlab": "0.1.0", "commit": "90b5fe1", "march": "native", "onednn": "2.6.3 (...)",
//  "onednn_isa": "avx512_core_bf16", "onednn_max_cpu_isa": "", "cpu": "AMD EPYC ...",
//  "threads": 2, "host": "node7", "time": "2026-11-25T22:41:07Z"}
nlohmann::json provenance(int threads);

// Now, as ISO 8601 UTC ("2026-11-25T22:41:07Z").
std::string utc_now();

}  // namespace normlab
