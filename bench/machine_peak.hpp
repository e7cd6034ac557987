// The machine figure the benchmarks' "%peak" columns divide by.
#pragma once

namespace normlab {

// FP32 FMA peak of the machine's two cores, as measured in /work/shared/DESIGN.md
// ("Facts about the environment": "FP32 FMA peak about 450 GFLOP/s").
inline constexpr double kPeakFlops = 450e9;

}  // namespace normlab
