// Quantization with importance weights (an "imatrix"): ggml's quantize_<type>(src, dst, nrow, n_per_row,
// quant_weights) for one row. The weights (one per column, e.g. the mean squared input activation of
// that column) steer each block's scale search towards the columns that matter most for the product.
#pragma once

#include <cstdint>

#include "tensor/ggml_type.h"

namespace pocket {

// True for the types whose ggml quantizer reads importance weights: Q4_0, Q4_1, Q5_0, Q5_1 and the K
// quants Q2_K..Q6_K. (Q8_0, F16, BF16, F32 ignore them.)
bool uses_importance_weights(GgmlType t);

// Encodes one row of n values (n a multiple of the type's block size) as ggml's quantize_<t> does
// with quant_weights = `weights` (n values). weights == nullptr, or a type that ignores them, gives
// exactly quantize_row(t, src, dst, n) (ggml's reference rounding).
void quantize_row_weighted(GgmlType t, const float* src, void* dst, int64_t n, const float* weights);

}  // namespace pocket
