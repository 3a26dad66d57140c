// Element-wise and row-wise operations of the forward pass (f32). Shapes are given per call.
#pragma once

#include <cstdint>
#include <span>

namespace pocket::ops {

// y = x / sqrt(mean(x²) + eps) ⊙ w   (w may be empty: unweighted RMS norm). x, y: [n]; in place allowed.
void rms_norm(const float* x, std::span<const float> w, float eps, int64_t n, float* y);

// gelu_pytorch_tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
float gelu_tanh(float x);

// y[i] = gelu(gate[i]) · up[i], n values.
void geglu(const float* gate, const float* up, int64_t n, float* y);

// In place: x[i] = cap · tanh(x[i] / cap).
void softcap(float* x, int64_t n, float cap);

// In place softmax over n values.
void softmax(float* x, int64_t n);

// Rotates one head vector in NeoX ("rotate half") layout: pairs (i, i + half) for i < n_pairs use
// cos/sin[i]; pairs at i ≥ n_pairs are left unchanged. x: [2·half].
void rope_neox(float* x, int64_t half, const float* cos, const float* sin, int64_t n_pairs);

// y += a · x, n values.
void axpy(float a, const float* x, float* y, int64_t n);

float dot_f32(const float* a, const float* b, int64_t n);

// Tiled attention with a tile's query rows in columns, so SIMD kernels put rows in vector
// lanes and need no horizontal sums. `rows` must be a multiple of 4; score_tile and softmax_cols may
// compute (and write) rows up to round_up(rows, kTileRowAlign), so buffers, ldq / lds and first /
// last must cover that many (callers pad tiles with zero queries; the extra rows' results are
// unspecified). ldp ≥ rows.
constexpr int64_t kTileRowAlign = 16;
// xt[c·ldt + r] = x[row_offset[r] + c] for r < rows, c < n: a tile's query rows (anywhere in the
// batch) as columns of Qᵀ [n][ldt]. Any rows.
void gather_cols(const float* x, const int32_t* row_offset, int64_t rows, int64_t n, float* xt, int64_t ldt);
// st[j·lds + r] = Σ_c qt[c·ldq + r] · k[j·k_stride + c] for r < rows, j < n_keys, c < n
// (Qᵀ: [n][ldq], keys: n_keys rows of n values; scores Sᵀ: [n_keys][lds]).
void score_tile(const float* qt, int64_t ldq, int64_t rows, const float* k, int64_t k_stride, int64_t n_keys, int64_t n,
                float* st, int64_t lds);
// One block of keys of an online softmax over columns. Column r of st (keys j0 ≤ j < j1, key j at
// st + (j − j0)·lds) becomes exp(s − m) at the row's keys first[r] ≤ j ≤ last[r] and 0 elsewhere,
// where m = row_max[r] updated with this block's maximum; rescale[r] = exp(old max − m) is the factor
// for what earlier blocks accumulated (1 while the row has seen no key), and row_sum[r] =
// row_sum[r]·rescale[r] + Σ this block. Start a row with row_max = −∞, row_sum = 0; normalizing
// (÷ row_sum) is left to the caller. first / last / row_max / row_sum / rescale: [rows].
void softmax_cols(float* st, int64_t lds, int64_t rows, const int32_t* first, const int32_t* last, int64_t j0,
                  int64_t j1, float* row_max, float* row_sum, float* rescale);
// (y + r·y_stride)[c] += Σ_j pt[j·ldp + r] · v[j·v_stride + c] for r < rows, j < n_keys, c < n.
void weighted_sum_cols(const float* pt, int64_t ldp, int64_t rows, const float* v, int64_t v_stride, int64_t n_keys,
                       float* y, int64_t y_stride, int64_t n);

// Scalar references of the SIMD-dispatched ops above (the SIMD kernels are tested against these).
void geglu_ref(const float* gate, const float* up, int64_t n, float* y);
void softcap_ref(float* x, int64_t n, float cap);
void softmax_ref(float* x, int64_t n);
void axpy_ref(float a, const float* x, float* y, int64_t n);
float dot_f32_ref(const float* a, const float* b, int64_t n);
void gather_cols_ref(const float* x, const int32_t* row_offset, int64_t rows, int64_t n, float* xt, int64_t ldt);
void score_tile_ref(const float* qt, int64_t ldq, int64_t rows, const float* k, int64_t k_stride, int64_t n_keys,
                    int64_t n, float* st, int64_t lds);
void softmax_cols_ref(float* st, int64_t lds, int64_t rows, const int32_t* first, const int32_t* last, int64_t j0,
                      int64_t j1, float* row_max, float* row_sum, float* rescale);
void weighted_sum_cols_ref(const float* pt, int64_t ldp, int64_t rows, const float* v, int64_t v_stride, int64_t n_keys,
                           float* y, int64_t y_stride, int64_t n);

}  // namespace pocket::ops
