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

// Scalar references of the SIMD-dispatched ops above (the SIMD kernels are tested against these).
void geglu_ref(const float* gate, const float* up, int64_t n, float* y);
void softcap_ref(float* x, int64_t n, float cap);
void softmax_ref(float* x, int64_t n);
void axpy_ref(float a, const float* x, float* y, int64_t n);
float dot_f32_ref(const float* a, const float* b, int64_t n);

}  // namespace pocket::ops
