// The machine figure the benchmarks' "%peak" columns divide by.
#pragma once

namespace normlab {

// FP32 FMA peak of the two cores of the first host these benchmarks ran on (16 independent
// AVX-512 FMA chains per thread measured 405-449 GFLOP/s). Hosts differ (one measured 265), so
// "%peak" is only comparable between runs on the same host; a peak measured in the same run is
// the better divisor and is not built yet.
inline constexpr double kPeakFlops = 450e9;

}  // namespace normlab
