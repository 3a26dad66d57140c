// Scalar reference quantizers / dequantizers and activation-quantized dot products, bit-compatible with
// ggml's *_ref functions. Fast (SIMD) kernels elsewhere are tested against these.
#pragma once

#include <cstdint>

#include "tensor/ggml_type.h"

namespace pocket {

// Decodes n elements (n % block_size == 0) of type t from src into dst (f32).
void dequantize_row(GgmlType t, const void* src, float* dst, int64_t n);

// Encodes n f32 values into type t with ggml's reference rounding (quantize_row_*_ref).
// Valid for every weight type and for the activation types Q8_0, Q8_1, Q8_K.
void quantize_row(GgmlType t, const float* src, void* dst, int64_t n);

// The type activations are converted to before a dot product with a weight row of type w,
// exactly as ggml's CPU backend does (type_traits_cpu[w].vec_dot_type):
// F32→F32, F16→F16, BF16→BF16, Q4_0/Q5_0/Q8_0→Q8_0, Q4_1/Q5_1→Q8_1, K-quants→Q8_K.
GgmlType vec_dot_type(GgmlType w);

// Scalar reference dot product of one weight row (type w) with one activation row already
// converted to vec_dot_type(w). n elements. Mirrors ggml's ggml_vec_dot_*_generic math.
float vec_dot_ref(GgmlType w, const void* w_row, const void* x_row, int64_t n);

}  // namespace pocket
