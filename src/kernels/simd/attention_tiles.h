// SIMD kernels of tiled (prefill) attention, rows of a query tile in vector lanes (attention_tiles.cpp).
// Declared through kernels/ops.h for callers; this header is for the dispatch layer and its tests.
#pragma once

#include <cstdint>

namespace pocket::simd {

// See pocket::ops::gather_cols / score_tile / softmax_cols / weighted_sum_cols for shapes and contracts.
void gather_cols(const float* x, const int32_t* row_offset, int64_t rows, int64_t n, float* xt, int64_t ldt);
void score_tile(const float* qt, int64_t ldq, int64_t rows, const float* k, int64_t k_stride, int64_t n_keys, int64_t n,
                float* st, int64_t lds);
void softmax_cols(float* st, int64_t lds, int64_t rows, const int32_t* first, const int32_t* last, int64_t j0,
                  int64_t j1, float* row_max, float* row_sum, float* rescale);
void weighted_sum_cols(const float* pt, int64_t ldp, int64_t rows, const float* v, int64_t v_stride, int64_t n_keys,
                       float* y, int64_t y_stride, int64_t n);

}  // namespace pocket::simd
