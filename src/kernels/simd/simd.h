// SIMD kernels for the matrix products (Highway, one binary for all x86 / Arm targets: the best
// instruction set the CPU supports is picked at run time, see target_name()).
//
// Every kernel has a scalar reference in src/tensor (quants.h) and is tested against it:
//  - activation conversion (quantize_activation) is bit-exact with quantize_row;
//  - dot products with legacy-format weights (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) are bit-exact with
//    vec_dot_ref: integer block sums are exact and the per-block float scaling and summation run in
//    the reference's order, just for several rows / tokens side by side in vector lanes;
//  - F32 / F16 / BF16 and the K formats sum floats in a different order (vector lanes, FMA), so they
//    match the reference to a relative tolerance (see simd_dot_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/ggml_type.h"

namespace pocket::simd {

// ---- dispatch ----

// Highway's name of the instruction set in use ("AVX3_DL", "AVX3", "AVX2", "SSE4", "SCALAR", "NEON", ...).
const char* target_name();
// Targets compiled into this binary that this CPU can run (Highway target bits, best first).
std::vector<int64_t> available_targets();
const char* target_name(int64_t target);
// Tests and benchmarks: restrict dispatch to `target` (one of available_targets()); 0 restores the default.
void force_target(int64_t target);
// The target the dispatcher actually calls (Highway target bit).
int64_t dispatched_target();

// ---- activation conversion ----

// x[n] (f32) → the vec-dot type t: F32, F16, BF16, Q8_0, Q8_1 or Q8_K. Bit-exact with quantize_row(t, ...).
// Q8_0 / Q8_1 round halves away from zero, exactly like the reference (llama.cpp's AVX build rounds
// them to even; the reference rounding was kept so both paths give identical quants).
void quantize_activation(GgmlType t, const float* x, void* y, int64_t n);

// ---- dot products ----

// One weight row (type w, n elements) with one activation row already in vec_dot_type(w).
float vec_dot(GgmlType w, const void* w_row, const void* x_row, int64_t n);

// ---- matrix kernels ----

// A weight matrix in its GGUF layout: `rows` rows of `cols` values of type `type`, row r at data + r * row_bytes
// (row_bytes as in the GGUF), or with `panels` in the stored-panel layout (store_panels).
struct WeightView {
  GgmlType type;
  const uint8_t* data;
  int64_t cols;
  int64_t rows;
  size_t row_bytes;
  bool panels = false;
};

// Activations already converted to vec_dot_type(w.type): token t's row at xq + t * xq_stride.
struct ActivationView {
  const uint8_t* xq;
  size_t xq_stride;
  int64_t n_tokens;
};

// Decode-shaped product: y[t * y_stride + r] = dot(row r, token t) for rows [r0, r1) and every token.
// Reads the weights from memory once for all tokens (chunks of rows stay in cache while each token
// passes); meant for a handful of tokens (1..3), beyond that gemm_rows is faster.
void matvec_rows(const WeightView& w, int64_t r0, int64_t r1, const ActivationView& x, float* y, int64_t y_stride);

// Prefill-shaped product (many tokens): weights are repacked panel by panel (a few rows interleaved
// so one vector holds the same column of several rows) into `panel_scratch`, then tile kernels
// multiply each panel with groups of tokens. `token_aux` holds per-token block data prepared by
// prepare_tokens. Covers rows [r0, r1); r0 must be a multiple of panel_rows(), and panel_scratch
// must hold panel_bytes() bytes at 64-byte alignment (the tiles use aligned loads).
int64_t panel_rows();                              // rows per packed panel (vector lanes of int32)
size_t panel_bytes(GgmlType w, int64_t cols);      // bytes of the panels one tile multiplies together
size_t token_aux_bytes(GgmlType w, int64_t cols);  // bytes of token_aux per token
void prepare_tokens(GgmlType w, const ActivationView& x, int64_t cols, uint8_t* token_aux);
void gemm_rows(const WeightView& w, int64_t r0, int64_t r1, const ActivationView& x, const uint8_t* token_aux,
               uint8_t* panel_scratch, float* y, int64_t y_stride);

// ---- weights stored as panels (repacked once, at load) ----
// Where the tiles use 16-row panels (AVX-512), Q4_0 and Q8_0 matrices whose width is a multiple of
// 64 can be kept in the tiles' own layout: the same bytes permuted (16 rows interleaved per 32-value
// block, scales gathered), so decode reads no more memory, its kernel does a fraction of the shuffling,
// and prefill packs nothing. Such a matrix (WeightView::panels) is multiplied by gemm_rows for any
// number of tokens, with token_aux from prepare_tokens; matvec_rows does not read it.
bool stored_panels_supported(GgmlType t, int64_t cols);
size_t stored_panels_bytes(GgmlType t, int64_t rows, int64_t cols);
// w in its GGUF layout → dst (stored_panels_bytes, 64-byte aligned); rows past the end repeat the last.
void store_panels(const WeightView& w, uint8_t* dst);
// Block `block` of row r of a stored-panel matrix, as the GGUF row holds it (row_size(type, 32) bytes).
void stored_panel_block(const WeightView& w, int64_t r, int64_t block, uint8_t* out);

// Whether gemm_rows supports weight type w (all weight types do; kept for the callers' asserts).
bool gemm_supports(GgmlType w);

// ---- f32 row operations (vec_ops.cpp): SIMD counterparts of kernels/ops.h ----
// Same formulas as pocket::ops, with sums reassociated across lanes and Highway's tanh / exp
// approximations; they agree with ops:: to the tolerances in simd_vec_ops_test.cpp.

float dot_f32(const float* a, const float* b, int64_t n);
void axpy(float a, const float* x, float* y, int64_t n);              // y += a·x
void geglu(const float* gate, const float* up, int64_t n, float* y);  // y = gelu_tanh(gate)·up
void softcap(float* x, int64_t n, float cap);                         // x = cap·tanh(x / cap)
void softmax(float* x, int64_t n);
// Tiled attention kernels: kernels/simd/attention_tiles.h.

}  // namespace pocket::simd
