// Decode-shaped products (one activation row against many weight rows) for the legacy 32-element
// formats and F32 / F16 / BF16, plus the public vec_dot / matvec_rows entry points.
//
// Legacy formats are bit-exact with vec_dot_ref: a group of R rows (R = int32 lanes per vector) is
// processed block by block; each row's exact integer block sum is formed with byte dot products,
// the R partial-sum vectors are folded into one vector holding one block sum per row (lane = row),
// and the reference's float expression for the block runs lane-wise, so every row keeps its own
// sequential float sum over blocks exactly as the scalar loop does.

#include "kernels/simd/hwy_config.h"

// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/matvec.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include <algorithm>
#include <cstring>

#include "hwy/highway.h"
#include "kernels/simd/internal.h"
#include "kernels/simd/simd-inl.h"
#include "kernels/simd/simd.h"
#include "tensor/blocks.h"
#include "tensor/quants.h"

HWY_BEFORE_NAMESPACE();
#if HWY_TARGET == HWY_AVX3_DL && !defined(__clang__)
#pragma GCC target("avx512vnni")  // as in simd-inl.h
#endif
namespace pocket::simd::HWY_NAMESPACE {

#if HWY_TARGET == HWY_SCALAR

void MatvecLegacyOrFloat(const WeightView& w, int64_t r0, int64_t r1, const uint8_t* xq, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    y[r - r0] = vec_dot_ref(w.type, w.data + static_cast<size_t>(r) * w.row_bytes, xq, w.cols);
  }
}

#else

// ---- per-format layouts and the reference's float expression for one block ----

enum class Kind { kNibble, kNibble5, kByte };

struct Q4_0Fmt {
  static constexpr Kind kKind = Kind::kNibble;
  static constexpr size_t kBytes = sizeof(BlockQ4_0), kQs = 2, kQh = 0, kM = 0;
  static constexpr size_t kXBytes = sizeof(BlockQ8_0), kXQs = 2;
  static constexpr int kOffset = 8;  // stored quant - true quant
  static constexpr bool kMin = false;
  // sumf += sumi * dx * dy
  static VF32 Term(VF32 sumi, VF32 dx, VF32 dy, VF32, VF32) { return hn::Mul(hn::Mul(sumi, dx), dy); }
};
struct Q4_1Fmt {
  static constexpr Kind kKind = Kind::kNibble;
  static constexpr size_t kBytes = sizeof(BlockQ4_1), kQs = 4, kQh = 0, kM = 2;
  static constexpr size_t kXBytes = sizeof(BlockQ8_1), kXQs = 4;
  static constexpr int kOffset = 0;
  static constexpr bool kMin = true;
  // sumf += (dx * dy) * sumi + mx * sy
  static VF32 Term(VF32 sumi, VF32 dx, VF32 dy, VF32 mx, VF32 sy) {
    return hn::Add(hn::Mul(hn::Mul(dx, dy), sumi), hn::Mul(mx, sy));
  }
};
struct Q5_0Fmt {
  static constexpr Kind kKind = Kind::kNibble5;
  static constexpr size_t kBytes = sizeof(BlockQ5_0), kQs = 6, kQh = 2, kM = 0;
  static constexpr size_t kXBytes = sizeof(BlockQ8_0), kXQs = 2;
  static constexpr int kOffset = 16;
  static constexpr bool kMin = false;
  // sumf += (dx * dy) * sumi
  static VF32 Term(VF32 sumi, VF32 dx, VF32 dy, VF32, VF32) { return hn::Mul(hn::Mul(dx, dy), sumi); }
};
struct Q5_1Fmt {
  static constexpr Kind kKind = Kind::kNibble5;
  static constexpr size_t kBytes = sizeof(BlockQ5_1), kQs = 8, kQh = 4, kM = 2;
  static constexpr size_t kXBytes = sizeof(BlockQ8_1), kXQs = 4;
  static constexpr int kOffset = 0;
  static constexpr bool kMin = true;
  static VF32 Term(VF32 sumi, VF32 dx, VF32 dy, VF32 mx, VF32 sy) { return Q4_1Fmt::Term(sumi, dx, dy, mx, sy); }
};
struct Q8_0Fmt {
  static constexpr Kind kKind = Kind::kByte;
  static constexpr size_t kBytes = sizeof(BlockQ8_0), kQs = 2, kQh = 0, kM = 0;
  static constexpr size_t kXBytes = sizeof(BlockQ8_0), kXQs = 2;
  // With VNNI the signed quants are biased by 128 to feed the unsigned operand.
  static constexpr int kOffset = POCKET_SIMD_VNNI ? 128 : 0;
  static constexpr bool kMin = false;
  // sumf += sumi * (dx * dy)
  static VF32 Term(VF32 sumi, VF32 dx, VF32 dy, VF32, VF32) { return hn::Mul(sumi, hn::Mul(dx, dy)); }
};

// Blocks per vector step: two on AVX-512, one on AVX2; 16-byte vectors take a block in two halves.
inline constexpr int kBlocksPerStep = kW >= 64 ? 2 : 1;
inline constexpr int kHalves = kW == 16 ? 2 : 1;

// The 32 nibbles of a q4 block in element order: low nibbles are elements 0..15, high 16..31.
// kW = 64 covers blocks a and b, kW = 32 block a, kW = 16 half `half` of block a.
HWY_INLINE VU8 NibbleQuants(const uint8_t* qs_a, const uint8_t* qs_b, int half) {
  const DU8 d;
  const DU16 d16;
  const auto mask = hn::Set(d, uint8_t{0x0F});
  if constexpr (kW == 16) {
    const auto v = hn::LoadU(d, qs_a);
    return half == 0 ? hn::And(v, mask) : hn::And(hn::BitCast(d, hn::ShiftRight<4>(hn::BitCast(d16, v))), mask);
  } else {
    hn::Vec<DU8> v;
    if constexpr (kW == 64) {
      v = hn::ConcatLowerLower(d, hn::LoadDup128(d, qs_b), hn::LoadDup128(d, qs_a));  // [a a b b]
    } else {
      (void)qs_b;
      v = hn::LoadDup128(d, qs_a);  // [a a]
    }
    (void)half;
    const auto shifted = hn::BitCast(d, hn::ShiftRight<4>(hn::BitCast(d16, v)));
    return hn::And(hn::OddEvenBlocks(shifted, v), mask);
  }
}

// 0x10 where bit e of the block's qh word is set, for the elements NibbleQuants returns.
HWY_INLINE VU8 FifthBits(uint32_t qh_a, uint32_t qh_b, int half) {
  const DU8 d;
  const DU32 d32;
  alignas(64) static constexpr auto kTables = [] {
    struct {
      uint8_t index[kW];
      uint8_t bit[kW];
    } t{};
    for (int i = 0; i < kW; ++i) {
      const int e = i % 32;  // element within its block (half 0 for kW == 16)
      t.index[i] = static_cast<uint8_t>(e / 8);
      t.bit[i] = static_cast<uint8_t>(1u << (e % 8));
    }
    return t;
  }();
  hn::Vec<DU32> words = hn::Set(d32, qh_a);
  if constexpr (kW == 64) words = hn::IfThenElse(hn::FirstN(d32, 8), words, hn::Set(d32, qh_b));
  (void)qh_b;
  auto index = hn::Load(d, kTables.index);
  if (kW == 16 && half == 1) index = hn::Add(index, hn::Set(d, uint8_t{2}));
  const auto bytes = hn::TableLookupBytes(hn::BitCast(d, words), index);
  const auto set = hn::Ne(hn::And(bytes, hn::Load(d, kTables.bit)), hn::Zero(d));
  return hn::IfThenElseZero(set, hn::Set(d, uint8_t{0x10}));
}

template <class Fmt>
HWY_INLINE VU8 LoadQuants(const uint8_t* blk_a, const uint8_t* blk_b, int half) {
  const DU8 d;
  if constexpr (Fmt::kKind == Kind::kByte) {
    hn::Vec<DU8> v;
    if constexpr (kW == 64) {
      const hn::Half<DU8> dh;
      v = hn::Combine(d, hn::LoadU(dh, blk_b + Fmt::kQs), hn::LoadU(dh, blk_a + Fmt::kQs));
    } else {
      v = hn::LoadU(d, blk_a + Fmt::kQs + 16 * half);
    }
    if constexpr (POCKET_SIMD_VNNI) v = hn::Xor(v, hn::Set(d, uint8_t{0x80}));
    return v;
  } else {
    auto q = NibbleQuants(blk_a + Fmt::kQs, blk_b + Fmt::kQs, half);
    if constexpr (Fmt::kKind == Kind::kNibble5) {
      q = hn::Or(q, FifthBits(LoadU32(blk_a + Fmt::kQh), LoadU32(blk_b + Fmt::kQh), half));
    }
    return q;
  }
}

// The activation quants matching LoadQuants (same blocks / half).
HWY_INLINE VI8 LoadActivations(const uint8_t* xblk_a, const uint8_t* xblk_b, int half) {
  const DI8 d;
  const auto* a = reinterpret_cast<const int8_t*>(xblk_a);
  if constexpr (kW == 64) {
    const hn::Half<DI8> dh;
    return hn::Combine(d, hn::LoadU(dh, reinterpret_cast<const int8_t*>(xblk_b)), hn::LoadU(dh, a));
  } else {
    (void)xblk_b;
    return hn::LoadU(d, a + 16 * half);
  }
}

template <class Fmt>
HWY_INLINE VI32 DotQuants(VI32 acc, VU8 w, VI8 x) {
  if constexpr (Fmt::kKind == Kind::kByte && !POCKET_SIMD_VNNI) {
    return DotI8I8(acc, hn::BitCast(DI8(), w), x);
  } else {
    return DotU8I8(acc, w, x);
  }
}

// Lane-wise sums of adjacent lane pairs: lower half from lo, upper half from hi.
HWY_INLINE VI32 PairSums(VI32 lo, VI32 hi) {
  const DI32 d;
  return hn::Add(hn::ConcatEven(d, hi, lo), hn::ConcatOdd(d, hi, lo));
}

// Folds R = lanes(DI32) per-row partial vectors (each holding kBlocksPerStep blocks' partials in
// consecutive lane ranges) into per-block vectors with lane r = block sum of row r.
HWY_INLINE void FoldRows(VI32* p, VI32* out) {
  constexpr int R = kW / 4;
  int n = R;
  while (n > kBlocksPerStep) {
    for (int i = 0; i < n / 2; ++i) p[i] = PairSums(p[2 * i], p[2 * i + 1]);
    n /= 2;
  }
  if constexpr (kBlocksPerStep == 2) {
    const DI32 d;
    out[0] = hn::ConcatEven(d, p[1], p[0]);
    out[1] = hn::ConcatOdd(d, p[1], p[0]);
  } else {
    out[0] = p[0];
  }
}

// f16 field at `offset` of block b of each row, as floats (lane = row).
HWY_INLINE VF32 GatherF16(const uint8_t* const* rows, size_t offset) {
  constexpr int R = kW / 4;
  const DF32 df;
  const hn::Rebind<hwy::float16_t, DF32> dh;
  alignas(64) uint16_t h[R];
  for (int r = 0; r < R; ++r) std::memcpy(&h[r], rows[r] + offset, 2);
  return hn::PromoteTo(df, hn::Load(dh, reinterpret_cast<const hwy::float16_t*>(h)));
}

// y[r - r0] = dot(row r, x) for one token.
template <class Fmt>
void MatvecLegacy(const WeightView& w, int64_t r0, int64_t r1, const uint8_t* xq, float* y) {
  constexpr int R = kW / 4;
  const DI32 di;
  const DF32 df;
  const DU8 du8;
  const int64_t nb = w.cols / 32;
  for (int64_t g = r0; g < r1; g += R) {
    const uint8_t* rows[R];
    for (int r = 0; r < R; ++r) rows[r] = w.data + static_cast<size_t>(std::min(g + r, r1 - 1)) * w.row_bytes;
    VF32 acc = hn::Zero(df);
    for (int64_t b = 0; b < nb; b += kBlocksPerStep) {
      const int64_t b2 = std::min(b + 1, nb - 1);  // second block of the step (kW = 64); repeats b at the end
      const size_t off_a = static_cast<size_t>(b) * Fmt::kBytes, off_b = static_cast<size_t>(b2) * Fmt::kBytes;
      const uint8_t* xa = xq + static_cast<size_t>(b) * Fmt::kXBytes;
      const uint8_t* xb = xq + static_cast<size_t>(b2) * Fmt::kXBytes;
      VI32 p[R];
      VI32 xsum = hn::Zero(di);
      for (int h = 0; h < kHalves; ++h) {
        const VI8 x = LoadActivations(xa + Fmt::kXQs, xb + Fmt::kXQs, h);
        if constexpr (Fmt::kOffset != 0) xsum = DotU8I8(xsum, hn::Set(du8, uint8_t{1}), x);
        for (int r = 0; r < R; ++r) {
          p[r] = DotQuants<Fmt>(h == 0 ? hn::Zero(di) : p[r], LoadQuants<Fmt>(rows[r] + off_a, rows[r] + off_b, h), x);
        }
      }
      VI32 sums[kBlocksPerStep];
      FoldRows(p, sums);
      for (int k = 0; k < kBlocksPerStep && b + k < nb; ++k) {
        const uint8_t* xblk = k == 0 ? xa : xb;
        const size_t off = k == 0 ? off_a : off_b;
        VI32 sumi = sums[k];
        if constexpr (Fmt::kOffset != 0) {
          int32_t xs;
          if constexpr (kBlocksPerStep == 2) {
            const hn::Half<DI32> dh;
            xs = ReduceSumD(dh, k == 0 ? hn::LowerHalf(dh, xsum) : hn::UpperHalf(dh, xsum));
          } else {
            xs = ReduceSum(xsum);
          }
          sumi = hn::Sub(sumi, hn::Set(di, Fmt::kOffset * xs));
        }
        const VF32 dx = GatherF16(rows, off);
        const VF32 dy = hn::Set(df, LoadF16(xblk));
        VF32 mx = dx, sy = dy;
        if constexpr (Fmt::kMin) {
          mx = GatherF16(rows, off + Fmt::kM);
          sy = hn::Set(df, LoadF16(xblk + 2));
        }
        acc = hn::Add(acc, Fmt::Term(hn::ConvertTo(df, sumi), dx, dy, mx, sy));
      }
    }
    alignas(64) float out[R];
    hn::Store(acc, df, out);
    for (int r = 0; r < R && g + r < r1; ++r) y[g + r - r0] = out[r];
  }
}

// ---- F32 / F16 / BF16 rows (activations in the same type); products are exact in f32 ----

template <GgmlType kType>
HWY_INLINE VF32 LoadFloats(const uint8_t* p, int64_t i) {
  const DF32 df;
  if constexpr (kType == GgmlType::F32) {
    return hn::LoadU(df, reinterpret_cast<const float*>(p) + i);
  } else if constexpr (kType == GgmlType::F16) {
    const hn::Rebind<hwy::float16_t, DF32> dh;
    return hn::PromoteTo(df, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(p) + i));
  } else {
    const DU32 du;
    const hn::Rebind<uint16_t, DU32> d16;
    const auto bits = hn::PromoteTo(du, hn::LoadU(d16, reinterpret_cast<const uint16_t*>(p) + i));
    return hn::BitCast(df, hn::ShiftLeft<16>(bits));
  }
}

template <GgmlType kType>
float DotFloat(const uint8_t* w, const uint8_t* x, int64_t n) {
  const DF32 df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  VF32 a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df), a3 = hn::Zero(df);
  int64_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    a0 = hn::MulAdd(LoadFloats<kType>(w, i), LoadFloats<kType>(x, i), a0);
    a1 = hn::MulAdd(LoadFloats<kType>(w, i + N), LoadFloats<kType>(x, i + N), a1);
    a2 = hn::MulAdd(LoadFloats<kType>(w, i + 2 * N), LoadFloats<kType>(x, i + 2 * N), a2);
    a3 = hn::MulAdd(LoadFloats<kType>(w, i + 3 * N), LoadFloats<kType>(x, i + 3 * N), a3);
  }
  for (; i + N <= n; i += N) a0 = hn::MulAdd(LoadFloats<kType>(w, i), LoadFloats<kType>(x, i), a0);
  float sum = ReduceSum(hn::Add(hn::Add(a0, a1), hn::Add(a2, a3)));
  if (i < n)
    sum +=
        vec_dot_ref(kType, w + i * (kType == GgmlType::F32 ? 4 : 2), x + i * (kType == GgmlType::F32 ? 4 : 2), n - i);
  return sum;
}

template <GgmlType kType>
void MatvecFloat(const WeightView& w, int64_t r0, int64_t r1, const uint8_t* xq, float* y) {
  for (int64_t r = r0; r < r1; ++r)
    y[r - r0] = DotFloat<kType>(w.data + static_cast<size_t>(r) * w.row_bytes, xq, w.cols);
}

void MatvecLegacyOrFloat(const WeightView& w, int64_t r0, int64_t r1, const uint8_t* xq, float* y) {
  switch (w.type) {
    case GgmlType::Q4_0:
      return MatvecLegacy<Q4_0Fmt>(w, r0, r1, xq, y);
    case GgmlType::Q4_1:
      return MatvecLegacy<Q4_1Fmt>(w, r0, r1, xq, y);
    case GgmlType::Q5_0:
      return MatvecLegacy<Q5_0Fmt>(w, r0, r1, xq, y);
    case GgmlType::Q5_1:
      return MatvecLegacy<Q5_1Fmt>(w, r0, r1, xq, y);
    case GgmlType::Q8_0:
      return MatvecLegacy<Q8_0Fmt>(w, r0, r1, xq, y);
    case GgmlType::F32:
      return MatvecFloat<GgmlType::F32>(w, r0, r1, xq, y);
    case GgmlType::F16:
      return MatvecFloat<GgmlType::F16>(w, r0, r1, xq, y);
    case GgmlType::BF16:
      return MatvecFloat<GgmlType::BF16>(w, r0, r1, xq, y);
    default:
      for (int64_t r = r0; r < r1; ++r) {
        y[r - r0] = vec_dot_ref(w.type, w.data + static_cast<size_t>(r) * w.row_bytes, xq, w.cols);
      }
  }
}

#endif  // HWY_TARGET == HWY_SCALAR

}  // namespace pocket::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace pocket::simd {

HWY_EXPORT(MatvecLegacyOrFloat);

void matvec_rows(const WeightView& w, int64_t r0, int64_t r1, const ActivationView& x, float* y, int64_t y_stride) {
  for (int64_t t = 0; t < x.n_tokens; ++t) {
    const uint8_t* xq = x.xq + static_cast<size_t>(t) * x.xq_stride;
    float* yt = y + t * y_stride + r0;
    if (detail::is_k_format(w.type)) {
      detail::matvec_k(w, r0, r1, xq, yt);
    } else {
      HWY_DYNAMIC_DISPATCH(MatvecLegacyOrFloat)(w, r0, r1, xq, yt);
    }
  }
}

float vec_dot(GgmlType w, const void* w_row, const void* x_row, int64_t n) {
  const WeightView view{w, static_cast<const uint8_t*>(w_row), n, 1, row_size(w, n)};
  const ActivationView x{static_cast<const uint8_t*>(x_row), row_size(vec_dot_type(w), n), 1};
  float y = 0.0f;
  matvec_rows(view, 0, 1, x, &y, 1);
  return y;
}

}  // namespace pocket::simd
#endif  // HWY_ONCE
