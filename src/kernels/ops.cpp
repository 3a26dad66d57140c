#include "kernels/ops.h"

#include <algorithm>
#include <cmath>

#include "kernels/simd/attention_tiles.h"
#include "kernels/simd/simd.h"

namespace pocket::ops {

void rms_norm(const float* x, std::span<const float> w, float eps, int64_t n, float* y) {
  // Sum of squares in double, as ggml does, so long rows do not lose precision.
  double ss = 0.0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(ss / static_cast<double>(n)) + eps);
  if (w.empty()) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * w[i];
  }
}

float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  constexpr float kCoef = 0.044715f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kCoef * x * x)));
}

void geglu_ref(const float* gate, const float* up, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = gelu_tanh(gate[i]) * up[i];
}

void softcap_ref(float* x, int64_t n, float cap) {
  const float inv = 1.0f / cap;
  for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] * inv);
}

void softmax_ref(float* x, int64_t n) {
  if (n <= 0) return;
  const float mx = *std::max_element(x, x + n);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void rope_neox(float* x, int64_t half, const float* cos, const float* sin, int64_t n_pairs) {
  for (int64_t i = 0; i < n_pairs; ++i) {
    const float a = x[i], b = x[i + half];
    x[i] = a * cos[i] - b * sin[i];
    x[i + half] = b * cos[i] + a * sin[i];
  }
}

void axpy_ref(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

float dot_f32_ref(const float* a, const float* b, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void gather_cols_ref(const float* x, const int32_t* row_offset, int64_t rows, int64_t n, float* xt, int64_t ldt) {
  for (int64_t c = 0; c < n; ++c) {
    for (int64_t r = 0; r < rows; ++r) xt[c * ldt + r] = x[row_offset[r] + c];
  }
}

void score_tile_ref(const float* qt, int64_t ldq, int64_t rows, const float* k, int64_t k_stride, int64_t n_keys,
                    int64_t n, float* st, int64_t lds) {
  for (int64_t j = 0; j < n_keys; ++j) {
    for (int64_t r = 0; r < rows; ++r) {
      float s = 0.0f;
      for (int64_t c = 0; c < n; ++c) s += qt[c * ldq + r] * k[j * k_stride + c];
      st[j * lds + r] = s;
    }
  }
}

void softmax_cols_ref(float* st, int64_t lds, int64_t rows, const int32_t* first, const int32_t* last, int64_t j0,
                      int64_t j1, float* row_max, float* row_sum, float* rescale) {
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t lo = std::max<int64_t>(j0, first[r]), hi = std::min<int64_t>(j1 - 1, last[r]);
    float mx = row_max[r];
    for (int64_t j = lo; j <= hi; ++j) mx = std::max(mx, st[(j - j0) * lds + r]);
    double sum = 0.0;
    for (int64_t j = j0; j < j1; ++j) {
      float& x = st[(j - j0) * lds + r];
      x = (j >= lo && j <= hi) ? std::exp(x - mx) : 0.0f;
      sum += x;
    }
    rescale[r] = mx == -HUGE_VALF ? 1.0f : std::exp(row_max[r] - mx);
    row_sum[r] = row_sum[r] * rescale[r] + static_cast<float>(sum);
    row_max[r] = mx;
  }
}

void weighted_sum_cols_ref(const float* pt, int64_t ldp, int64_t rows, const float* v, int64_t v_stride, int64_t n_keys,
                           float* y, int64_t y_stride, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < n_keys; ++j) axpy_ref(pt[j * ldp + r], v + j * v_stride, y + r * y_stride, n);
  }
}

void gather_cols(const float* x, const int32_t* row_offset, int64_t rows, int64_t n, float* xt, int64_t ldt) {
  simd::gather_cols(x, row_offset, rows, n, xt, ldt);
}

void score_tile(const float* qt, int64_t ldq, int64_t rows, const float* k, int64_t k_stride, int64_t n_keys, int64_t n,
                float* st, int64_t lds) {
  simd::score_tile(qt, ldq, rows, k, k_stride, n_keys, n, st, lds);
}

void softmax_cols(float* st, int64_t lds, int64_t rows, const int32_t* first, const int32_t* last, int64_t j0,
                  int64_t j1, float* row_max, float* row_sum, float* rescale) {
  simd::softmax_cols(st, lds, rows, first, last, j0, j1, row_max, row_sum, rescale);
}

void weighted_sum_cols(const float* pt, int64_t ldp, int64_t rows, const float* v, int64_t v_stride, int64_t n_keys,
                       float* y, int64_t y_stride, int64_t n) {
  simd::weighted_sum_cols(pt, ldp, rows, v, v_stride, n_keys, y, y_stride, n);
}

void geglu(const float* gate, const float* up, int64_t n, float* y) { simd::geglu(gate, up, n, y); }

void softcap(float* x, int64_t n, float cap) { simd::softcap(x, n, cap); }

void softmax(float* x, int64_t n) { simd::softmax(x, n); }

void axpy(float a, const float* x, float* y, int64_t n) { simd::axpy(a, x, y, n); }

float dot_f32(const float* a, const float* b, int64_t n) { return simd::dot_f32(a, b, n); }

}  // namespace pocket::ops
