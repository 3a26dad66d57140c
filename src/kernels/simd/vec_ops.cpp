// SIMD versions of the f32 row operations the forward pass runs outside matmul (dot products and
// accumulations, GELU-tanh gating, logit soft-capping, softmax; tiled attention is in
// attention_tiles.cpp). They match the scalar
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

float dot_f32(const float* a, const float* b, int64_t n) { return HWY_DYNAMIC_DISPATCH(DotF32)(a, b, n); }
void axpy(float a, const float* x, float* y, int64_t n) { HWY_DYNAMIC_DISPATCH(Axpy)(a, x, y, n); }
void geglu(const float* gate, const float* up, int64_t n, float* y) { HWY_DYNAMIC_DISPATCH(Geglu)(gate, up, n, y); }
void softcap(float* x, int64_t n, float cap) { HWY_DYNAMIC_DISPATCH(Softcap)(x, n, cap); }
void softmax(float* x, int64_t n) { HWY_DYNAMIC_DISPATCH(Softmax)(x, n); }

}  // namespace pocket::simd
#endif  // HWY_ONCE
