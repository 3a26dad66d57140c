// SIMD versions of the f32 row operations the forward pass runs outside matmul (attention dot
// products and accumulations, GELU-tanh gating, logit soft-capping, softmax). They match the scalar
// formulas in kernels/ops.cpp to a relative tolerance (see simd_vec_ops_test.cpp): sums are
// reassociated across vector lanes and tanh / exp come from Highway's polynomial approximations.

#include "kernels/simd/hwy_config.h"

// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/vec_ops.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include <algorithm>
#include <cmath>

#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"
#include "kernels/simd/simd.h"

HWY_BEFORE_NAMESPACE();
namespace pocket::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_SCALAR

// The scalar target runs the plain formulas.
float DotF32(const float* a, const float* b, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}
void Axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}
float GeluTanh1(float x) {
  return 0.5f * x * (1.0f + std::tanh(0.79788456080286535587989211986876f * x * (1.0f + 0.044715f * x * x)));
}
void Geglu(const float* gate, const float* up, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = GeluTanh1(gate[i]) * up[i];
}
void Softcap(float* x, int64_t n, float cap) {
  for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}
void DotRows(const float* x, int64_t rows, int64_t x_stride, const float* k, int64_t n, float* out,
             int64_t out_stride) {
  for (int64_t r = 0; r < rows; ++r) out[r * out_stride] = DotF32(x + r * x_stride, k, n);
}
void AxpyRows(const float* a, int64_t a_stride, int64_t rows, const float* x, float* y, int64_t y_stride, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) Axpy(a[r * a_stride], x, y + r * y_stride, n);
}
void WeightedSumRows(const float* w, int64_t w_stride, int64_t rows, const float* v, int64_t v_stride, int64_t n_keys,
                     float* y, int64_t y_stride, int64_t n) {
  for (int64_t j = 0; j < n_keys; ++j) AxpyRows(w + j, w_stride, rows, v + j * v_stride, y, y_stride, n);
}
void Softmax(float* x, int64_t n) {
  if (n <= 0) return;
  const float mx = *std::max_element(x, x + n);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += (x[i] = std::exp(x[i] - mx));
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

#else

using DF = hn::ScalableTag<float>;

float DotF32(const float* a, const float* b, int64_t n) {
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
  int64_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
    s1 = hn::MulAdd(hn::LoadU(d, a + i + N), hn::LoadU(d, b + i + N), s1);
    s2 = hn::MulAdd(hn::LoadU(d, a + i + 2 * N), hn::LoadU(d, b + i + 2 * N), s2);
    s3 = hn::MulAdd(hn::LoadU(d, a + i + 3 * N), hn::LoadU(d, b + i + 3 * N), s3);
  }
  for (; i + N <= n; i += N) s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
  float s = hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void Axpy(float a, const float* x, float* y, int64_t n) {
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const auto va = hn::Set(d, a);
  int64_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(hn::MulAdd(va, hn::LoadU(d, x + i), hn::LoadU(d, y + i)), d, y + i);
  for (; i < n; ++i) y[i] += a * x[i];
}

// out[r·out_stride] = x_r · k for `rows` rows x_r = x + r·x_stride (the query heads that share one key
// row): each chunk of k is loaded once for up to 4 rows. n is a multiple of the lane count in practice
// (head sizes); a scalar tail covers the rest.
void DotRows(const float* x, int64_t rows, int64_t x_stride, const float* k, int64_t n, float* out,
             int64_t out_stride) {
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* x0 = x + r * x_stride;
    const float* x1 = x0 + x_stride;
    const float* x2 = x1 + x_stride;
    const float* x3 = x2 + x_stride;
    auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
    int64_t i = 0;
    for (; i + N <= n; i += N) {
      const auto kv = hn::LoadU(d, k + i);
      s0 = hn::MulAdd(hn::LoadU(d, x0 + i), kv, s0);
      s1 = hn::MulAdd(hn::LoadU(d, x1 + i), kv, s1);
      s2 = hn::MulAdd(hn::LoadU(d, x2 + i), kv, s2);
      s3 = hn::MulAdd(hn::LoadU(d, x3 + i), kv, s3);
    }
    float t0 = hn::GetLane(hn::SumOfLanes(d, s0)), t1 = hn::GetLane(hn::SumOfLanes(d, s1));
    float t2 = hn::GetLane(hn::SumOfLanes(d, s2)), t3 = hn::GetLane(hn::SumOfLanes(d, s3));
    for (; i < n; ++i) {
      t0 += x0[i] * k[i];
      t1 += x1[i] * k[i];
      t2 += x2[i] * k[i];
      t3 += x3[i] * k[i];
    }
    out[r * out_stride] = t0;
    out[(r + 1) * out_stride] = t1;
    out[(r + 2) * out_stride] = t2;
    out[(r + 3) * out_stride] = t3;
  }
  for (; r < rows; ++r) out[r * out_stride] = DotF32(x + r * x_stride, k, n);
}

// y_r += a[r·a_stride] · x for `rows` rows y_r = y + r·y_stride: each chunk of x is loaded once.
void AxpyRows(const float* a, int64_t a_stride, int64_t rows, const float* x, float* y, int64_t y_stride, int64_t n) {
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    float* y0 = y + r * y_stride;
    float* y1 = y0 + y_stride;
    float* y2 = y1 + y_stride;
    float* y3 = y2 + y_stride;
    const float a0 = a[r * a_stride], a1 = a[(r + 1) * a_stride], a2 = a[(r + 2) * a_stride],
                a3 = a[(r + 3) * a_stride];
    const auto va0 = hn::Set(d, a0), va1 = hn::Set(d, a1), va2 = hn::Set(d, a2), va3 = hn::Set(d, a3);
    int64_t i = 0;
    for (; i + N <= n; i += N) {
      const auto xv = hn::LoadU(d, x + i);
      hn::StoreU(hn::MulAdd(va0, xv, hn::LoadU(d, y0 + i)), d, y0 + i);
      hn::StoreU(hn::MulAdd(va1, xv, hn::LoadU(d, y1 + i)), d, y1 + i);
      hn::StoreU(hn::MulAdd(va2, xv, hn::LoadU(d, y2 + i)), d, y2 + i);
      hn::StoreU(hn::MulAdd(va3, xv, hn::LoadU(d, y3 + i)), d, y3 + i);
    }
    for (; i < n; ++i) {
      y0[i] += a0 * x[i];
      y1[i] += a1 * x[i];
      y2[i] += a2 * x[i];
      y3[i] += a3 * x[i];
    }
  }
  for (; r < rows; ++r) Axpy(a[r * a_stride], x, y + r * y_stride, n);
}

// y_r += Σ_j w[r·w_stride + j] · v[j·v_stride .. + n] for r < rows, j < n_keys (attention's
// probabilities times V for the heads sharing a KV head). Register tiles of 4 rows × 2 vectors stay
// in registers across all keys, so y is loaded and stored once.
void WeightedSumRows(const float* w, int64_t w_stride, int64_t rows, const float* v, int64_t v_stride, int64_t n_keys,
                     float* y, int64_t y_stride, int64_t n) {
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w0 = w + r * w_stride;
    float* y0 = y + r * y_stride;
    int64_t i = 0;
    for (; i + 2 * N <= n; i += 2 * N) {
      auto a00 = hn::LoadU(d, y0 + i), a01 = hn::LoadU(d, y0 + i + N);
      auto a10 = hn::LoadU(d, y0 + y_stride + i), a11 = hn::LoadU(d, y0 + y_stride + i + N);
      auto a20 = hn::LoadU(d, y0 + 2 * y_stride + i), a21 = hn::LoadU(d, y0 + 2 * y_stride + i + N);
      auto a30 = hn::LoadU(d, y0 + 3 * y_stride + i), a31 = hn::LoadU(d, y0 + 3 * y_stride + i + N);
      for (int64_t j = 0; j < n_keys; ++j) {
        const float* vj = v + j * v_stride + i;
        const auto v0 = hn::LoadU(d, vj), v1 = hn::LoadU(d, vj + N);
        const auto s0 = hn::Set(d, w0[j]), s1 = hn::Set(d, w0[w_stride + j]);
        const auto s2 = hn::Set(d, w0[2 * w_stride + j]), s3 = hn::Set(d, w0[3 * w_stride + j]);
        a00 = hn::MulAdd(s0, v0, a00);
        a01 = hn::MulAdd(s0, v1, a01);
        a10 = hn::MulAdd(s1, v0, a10);
        a11 = hn::MulAdd(s1, v1, a11);
        a20 = hn::MulAdd(s2, v0, a20);
        a21 = hn::MulAdd(s2, v1, a21);
        a30 = hn::MulAdd(s3, v0, a30);
        a31 = hn::MulAdd(s3, v1, a31);
      }
      hn::StoreU(a00, d, y0 + i);
      hn::StoreU(a01, d, y0 + i + N);
      hn::StoreU(a10, d, y0 + y_stride + i);
      hn::StoreU(a11, d, y0 + y_stride + i + N);
      hn::StoreU(a20, d, y0 + 2 * y_stride + i);
      hn::StoreU(a21, d, y0 + 2 * y_stride + i + N);
      hn::StoreU(a30, d, y0 + 3 * y_stride + i);
      hn::StoreU(a31, d, y0 + 3 * y_stride + i + N);
    }
    if (i < n) {  // leftover columns (head sizes that are not a multiple of 2 vectors)
      for (int64_t j = 0; j < n_keys; ++j) {
        for (int64_t rr = 0; rr < 4; ++rr) {
          const float a = w0[rr * w_stride + j];
          for (int64_t c = i; c < n; ++c) y0[rr * y_stride + c] += a * v[j * v_stride + c];
        }
      }
    }
  }
  for (; r < rows; ++r) {
    for (int64_t j = 0; j < n_keys; ++j) Axpy(w[r * w_stride + j], v + j * v_stride, y + r * y_stride, n);
  }
}

// gelu_pytorch_tanh(x) = 0.5 x (1 + tanh(√(2/π) x (1 + 0.044715 x²))).
template <class V>
HWY_INLINE V GeluTanh(DF d, V x) {
  const auto inner = hn::Mul(hn::Mul(hn::Set(d, 0.79788456080286535587989211986876f), x),
                             hn::MulAdd(hn::Mul(hn::Set(d, 0.044715f), x), x, hn::Set(d, 1.0f)));
  const auto half_x = hn::Mul(hn::Set(d, 0.5f), x);
  return hn::MulAdd(half_x, hn::Tanh(d, inner), half_x);
}

void Geglu(const float* gate, const float* up, int64_t n, float* y) {
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    hn::StoreU(hn::Mul(GeluTanh(d, hn::LoadU(d, gate + i)), hn::LoadU(d, up + i)), d, y + i);
  }
  if (i < n) {
    const auto m = hn::FirstN(d, static_cast<size_t>(n - i));
    const auto g = hn::IfThenElseZero(m, hn::LoadU(d, gate + i));  // n is a whole vector in practice
    alignas(64) float out[hn::MaxLanes(d)];
    hn::Store(hn::Mul(GeluTanh(d, g), hn::IfThenElseZero(m, hn::LoadU(d, up + i))), d, out);
    for (int64_t j = 0; i + j < n; ++j) y[i + j] = out[j];
  }
}

void Softcap(float* x, int64_t n, float cap) {
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const auto vcap = hn::Set(d, cap), inv = hn::Set(d, 1.0f / cap);
  int64_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(hn::Mul(vcap, hn::Tanh(d, hn::Mul(hn::LoadU(d, x + i), inv))), d, x + i);
  for (; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

void Softmax(float* x, int64_t n) {
  if (n <= 0) return;
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  auto vmax = hn::Set(d, -HUGE_VALF);
  for (; i + N <= n; i += N) vmax = hn::Max(vmax, hn::LoadU(d, x + i));
  float mx = hn::GetLane(hn::MaxOfLanes(d, vmax));
  for (; i < n; ++i) mx = std::max(mx, x[i]);
  const auto vmx = hn::Set(d, mx);
  auto vsum = hn::Zero(d);
  double sum = 0.0;
  for (i = 0; i + N <= n; i += N) {
    const auto e = hn::Exp(d, hn::Sub(hn::LoadU(d, x + i), vmx));
    hn::StoreU(e, d, x + i);
    vsum = hn::Add(vsum, e);
  }
  for (; i < n; ++i) sum += (x[i] = std::exp(x[i] - mx));
  sum += hn::GetLane(hn::SumOfLanes(d, vsum));
  const auto inv = hn::Set(d, static_cast<float>(1.0 / sum));
  for (i = 0; i + N <= n; i += N) hn::StoreU(hn::Mul(hn::LoadU(d, x + i), inv), d, x + i);
  for (; i < n; ++i) x[i] *= static_cast<float>(1.0 / sum);
}

#endif  // HWY_TARGET == HWY_SCALAR

}  // namespace pocket::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace pocket::simd {

HWY_EXPORT(DotF32);
HWY_EXPORT(Axpy);
HWY_EXPORT(Geglu);
HWY_EXPORT(Softcap);
HWY_EXPORT(Softmax);
HWY_EXPORT(DotRows);
HWY_EXPORT(AxpyRows);
HWY_EXPORT(WeightedSumRows);

float dot_f32(const float* a, const float* b, int64_t n) { return HWY_DYNAMIC_DISPATCH(DotF32)(a, b, n); }
void axpy(float a, const float* x, float* y, int64_t n) { HWY_DYNAMIC_DISPATCH(Axpy)(a, x, y, n); }
void geglu(const float* gate, const float* up, int64_t n, float* y) { HWY_DYNAMIC_DISPATCH(Geglu)(gate, up, n, y); }
void softcap(float* x, int64_t n, float cap) { HWY_DYNAMIC_DISPATCH(Softcap)(x, n, cap); }
void softmax(float* x, int64_t n) { HWY_DYNAMIC_DISPATCH(Softmax)(x, n); }
void dot_rows(const float* x, int64_t rows, int64_t x_stride, const float* k, int64_t n, float* out,
              int64_t out_stride) {
  HWY_DYNAMIC_DISPATCH(DotRows)(x, rows, x_stride, k, n, out, out_stride);
}
void axpy_rows(const float* a, int64_t a_stride, int64_t rows, const float* x, float* y, int64_t y_stride, int64_t n) {
  HWY_DYNAMIC_DISPATCH(AxpyRows)(a, a_stride, rows, x, y, y_stride, n);
}
void weighted_sum_rows(const float* w, int64_t w_stride, int64_t rows, const float* v, int64_t v_stride, int64_t n_keys,
                       float* y, int64_t y_stride, int64_t n) {
  HWY_DYNAMIC_DISPATCH(WeightedSumRows)(w, w_stride, rows, v, v_stride, n_keys, y, y_stride, n);
}

}  // namespace pocket::simd
#endif  // HWY_ONCE
