// The stored-panel layout (simd.h: store_panels): Q4_0 / Q8_0 matrices copied at load into the
// tile kernels' order. Shared by the tiles (gemm.cpp) and the layout code (stored_panels.cpp).
//
// Panels of kRows = 16 rows follow each other (the last padded by repeating the last row). In a panel,
// per 32-element unit, the quants of all 16 rows: Q4_0 4 vectors of 64 bytes, vector j lane r = qs
// bytes 4j..4j+3 of row r (low nibbles: quants 4j.., high: 16 + 4j..); Q8_0 8 vectors, vector g lane r
// = quants 4g..4g+3 of row r (raw int8). After all units' quants come 16 f16 scales per unit. The
// bytes are those of the GGUF rows, permuted; with an even number of units every vector is aligned.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/simd/simd.h"
#include "tensor/ggml_type.h"

namespace pocket::simd::stored_panels {

inline constexpr int64_t kRows = 16;
inline constexpr size_t kScaleBytes = 2 * kRows;  // 16 f16 per unit

// Quant bytes of one unit of a panel (16 rows).
inline size_t quant_bytes(GgmlType t) { return t == GgmlType::Q4_0 ? 256 : 512; }
inline size_t panel_stride(GgmlType t, int64_t cols) {
  return static_cast<size_t>(cols / 32) * (quant_bytes(t) + kScaleBytes);
}

// Stored panels on a target without their tiles (only after force_target in tests): row by row
// through matvec_rows, rows rebuilt with stored_panel_block. y is indexed by absolute row.
void rows_fallback(const WeightView& w, int64_t r0, int64_t r1, const ActivationView& x, float* y, int64_t y_stride);

}  // namespace pocket::simd::stored_panels
