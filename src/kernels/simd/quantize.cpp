// SIMD activation conversion (f32 → F16 / BF16 / Q8_0 / Q8_1 / Q8_K), bit-exact with the scalar
// quantize_row in src/tensor, plus the target dispatch helpers of simd.h.

#include "kernels/simd/hwy_config.h"

// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/quantize.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include <cstring>

#include "hwy/highway.h"
#include "kernels/simd/simd-inl.h"
#include "kernels/simd/simd.h"
#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/quants.h"

POCKET_BEFORE_NAMESPACE();  // HWY_BEFORE_NAMESPACE() with avx512vnni on AVX3_DL (simd-inl.h)
namespace pocket::simd::HWY_NAMESPACE {

#if HWY_TARGET == HWY_SCALAR

void QuantizeQ8_0(const float* x, void* y, int64_t n) { quantize_row(GgmlType::Q8_0, x, y, n); }
void QuantizeQ8_1(const float* x, void* y, int64_t n) { quantize_row(GgmlType::Q8_1, x, y, n); }
void QuantizeQ8_K(const float* x, void* y, int64_t n) { quantize_row(GgmlType::Q8_K, x, y, n); }
void ConvertF16(const float* x, void* y, int64_t n) { quantize_row(GgmlType::F16, x, y, n); }
void ConvertBF16(const float* x, void* y, int64_t n) { quantize_row(GgmlType::BF16, x, y, n); }

#else

// 32 values → int8 quants round(x / d) with d = amax / 127 (halves away from zero), as
// quantize_q8_0 / quantize_q8_1 do. Returns d and the sum of the quants.
HWY_INLINE float QuantizeBlock32(const float* x, int8_t* q, int32_t* qsum) {
  const DF32 df;
  const DI32 di;
  const hn::Rebind<int8_t, DF32> di8;
  const size_t N = hn::Lanes(df);
  auto amax = hn::Zero(df);
  for (size_t j = 0; j < 32; j += N) amax = hn::Max(amax, hn::Abs(hn::LoadU(df, x + j)));
  const float d = hn::GetLane(hn::MaxOfLanes(df, amax)) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  auto sum = hn::Zero(di);
  for (size_t j = 0; j < 32; j += N) {
    const auto qi = hn::ConvertTo(di, RoundHalfAway(hn::Mul(hn::LoadU(df, x + j), hn::Set(df, id))));
    sum = hn::Add(sum, qi);
    hn::StoreU(hn::DemoteTo(di8, qi), di8, q + j);
  }
  *qsum = ReduceSum(sum);
  return d;
}

void QuantizeQ8_0(const float* x, void* y, int64_t n) {
  auto* out = static_cast<BlockQ8_0*>(y);
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    int32_t qsum;
    const float d = QuantizeBlock32(x + b * kQK8_0, out[b].qs, &qsum);
    out[b].d = fp32_to_fp16(d);
  }
}

void QuantizeQ8_1(const float* x, void* y, int64_t n) {
  auto* out = static_cast<BlockQ8_1*>(y);
  for (int64_t b = 0; b < n / kQK8_1; ++b) {
    int32_t qsum;
    const float d = QuantizeBlock32(x + b * kQK8_1, out[b].qs, &qsum);
    out[b].d = fp32_to_fp16(d);
    out[b].s = fp32_to_fp16(static_cast<float>(qsum) * d);
  }
}

void QuantizeQ8_K(const float* x, void* y, int64_t n) {
  const DF32 df;
  const DI32 di;
  const hn::Rebind<int8_t, DF32> di8;
  const size_t N = hn::Lanes(df);
  auto* out = static_cast<BlockQ8_K*>(y);
  if (N > 16) return quantize_row(GgmlType::Q8_K, x, y, n);  // bsums need whole vectors per 16 values
  for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    auto vmax = hn::Zero(df);
    for (size_t j = 0; j < kQK_K; j += N) vmax = hn::Max(vmax, hn::Abs(hn::LoadU(df, x + j)));
    const float amax = hn::GetLane(hn::MaxOfLanes(df, vmax));
    if (amax == 0.0f) {
      std::memset(&out[b], 0, sizeof(BlockQ8_K));
      continue;
    }
    // The signed value of the first element of largest magnitude sets the sign of the scale.
    float max = 0.0f;
    for (size_t j = 0; j < kQK_K; j += N) {
      const auto v = hn::LoadU(df, x + j);
      const intptr_t i = hn::FindFirstTrue(df, hn::Eq(hn::Abs(v), hn::Set(df, amax)));
      if (i >= 0) {
        max = x[j + static_cast<size_t>(i)];
        break;
      }
    }
    const float iscale = -127.f / max;
    auto bsum = hn::Zero(di);
    for (size_t j = 0; j < kQK_K; j += N) {
      // nearest_int rounds halves to even, like hn::Round; |iscale * x| ≤ 127 up to rounding.
      const auto qi =
          hn::Min(hn::ConvertTo(di, hn::Round(hn::Mul(hn::Set(df, iscale), hn::LoadU(df, x + j)))), hn::Set(di, 127));
      hn::StoreU(hn::DemoteTo(di8, qi), di8, out[b].qs + j);
      bsum = hn::Add(bsum, qi);
      if ((j + N) % 16 == 0) {
        out[b].bsums[(j + N) / 16 - 1] = static_cast<int16_t>(ReduceSum(bsum));
        bsum = hn::Zero(di);
      }
    }
    out[b].d = 1 / iscale;
  }
}

void ConvertF16(const float* x, void* y, int64_t n) {
  auto* out = static_cast<uint16_t*>(y);
#if POCKET_SIMD_X86
  // F16C rounds to nearest even, as fp32_to_fp16 does.
  const DF32 df;
  const hn::Rebind<hwy::float16_t, DF32> dh;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    hn::StoreU(hn::DemoteTo(dh, hn::LoadU(df, x + i)), dh, reinterpret_cast<hwy::float16_t*>(out + i));
  }
  for (; i < n; ++i) out[i] = fp32_to_fp16(x[i]);
#else
  for (int64_t i = 0; i < n; ++i) out[i] = fp32_to_fp16(x[i]);
#endif
}

// Round-to-nearest-even to bf16, NaN kept quiet (fp32_to_bf16); Highway 1.0.3's DemoteTo truncates.
void ConvertBF16(const float* x, void* y, int64_t n) {
  const DF32 df;
  const DU32 du;
  const DI32 di;
  const hn::Rebind<uint16_t, DI32> du16;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  auto* out = static_cast<uint16_t*>(y);
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    const auto u = hn::BitCast(du, hn::LoadU(df, x + i));
    const auto rounded =
        hn::ShiftRight<16>(hn::Add(u, hn::Add(hn::Set(du, 0x7fffu), hn::And(hn::ShiftRight<16>(u), hn::Set(du, 1u)))));
    const auto nan = hn::Or(hn::ShiftRight<16>(u), hn::Set(du, 64u));
    const auto is_nan = hn::Gt(hn::And(u, hn::Set(du, 0x7fffffffu)), hn::Set(du, 0x7f800000u));
    // Values are below 2^16, so the saturating int32 → uint16 demotion is exact.
    hn::StoreU(hn::DemoteTo(du16, hn::BitCast(di, hn::IfThenElse(is_nan, nan, rounded))), du16, out + i);
  }
  for (; i < n; ++i) out[i] = fp32_to_bf16(x[i]);
}

#endif  // HWY_TARGET == HWY_SCALAR

// The target this copy was compiled for (checks that dispatch follows force_target).
int64_t CompiledTarget() { return HWY_TARGET; }

}  // namespace pocket::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace pocket::simd {

HWY_EXPORT(QuantizeQ8_0);
HWY_EXPORT(QuantizeQ8_1);
HWY_EXPORT(QuantizeQ8_K);
HWY_EXPORT(ConvertF16);
HWY_EXPORT(ConvertBF16);
HWY_EXPORT(CompiledTarget);

int64_t dispatched_target() { return HWY_DYNAMIC_DISPATCH(CompiledTarget)(); }

void quantize_activation(GgmlType t, const float* x, void* y, int64_t n) {
  switch (t) {
    case GgmlType::Q8_0:
      if (n % kQK8_0 != 0) break;
      return HWY_DYNAMIC_DISPATCH(QuantizeQ8_0)(x, y, n);
    case GgmlType::Q8_1:
      if (n % kQK8_1 != 0) break;
      return HWY_DYNAMIC_DISPATCH(QuantizeQ8_1)(x, y, n);
    case GgmlType::Q8_K:
      if (n % kQK_K != 0) break;
      return HWY_DYNAMIC_DISPATCH(QuantizeQ8_K)(x, y, n);
    case GgmlType::F16:
      return HWY_DYNAMIC_DISPATCH(ConvertF16)(x, y, n);
    case GgmlType::BF16:
      return HWY_DYNAMIC_DISPATCH(ConvertBF16)(x, y, n);
    default:
      break;
  }
  quantize_row(t, x, y, n);  // F32, and the reference's checks for anything malformed
}

const char* target_name(int64_t target) { return hwy::TargetName(target); }

std::vector<int64_t> available_targets() { return hwy::SupportedAndGeneratedTargets(); }

const char* target_name() {
  const std::vector<int64_t> targets = available_targets();
  return targets.empty() ? "none" : hwy::TargetName(targets.front());
}

void force_target(int64_t target) { hwy::SetSupportedTargetsForTest(target); }

}  // namespace pocket::simd
#endif  // HWY_ONCE
