// Declarations shared between the SIMD kernel files (not part of the public simd.h API).
#pragma once

#include <cstdint>

#include "kernels/simd/simd.h"

namespace pocket::simd::detail {

// matvec_rows for one token and the K formats (matvec_k.cpp); y[r - r0] for r in [r0, r1).
void matvec_k(const WeightView& w, int64_t r0, int64_t r1, const uint8_t* xq, float* y);

bool is_k_format(GgmlType t);

}  // namespace pocket::simd::detail
