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

#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "kernels/simd/internal.h"
#include "kernels/simd/simd-inl.h"
#include "kernels/simd/simd.h"
#include "tensor/blocks.h"
#include "tensor/quants.h"

POCKET_BEFORE_NAMESPACE();  // HWY_BEFORE_NAMESPACE() with avx512vnni on AVX3_DL (simd-inl.h)
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

// Each vector holds the same 16-byte chunk of kRowsPerVec rows (4 on AVX-512, 2 on AVX2, 1 on
// 16-byte targets), so a group of R = lanes(int32) rows takes exactly 4 vectors per block half.
inline constexpr int kR = kW / 4;

// 0x10 where bit e of each row's qh word is set, for elements e = 16 * half + (byte index in block).
HWY_INLINE VU8 FifthBits(const uint8_t* const* rows, int k, size_t qh_offset, int half) {
  const DU8 d;
  const DU32 d32;
  alignas(64) static constexpr auto kTables = [] {
    struct {
      uint8_t index[2][kW];
      uint8_t bit[kW];
    } t{};
    for (int i = 0; i < kW; ++i) {
      for (int h = 0; h < 2; ++h) t.index[h][i] = static_cast<uint8_t>(2 * h + (i % 16) / 8);
      t.bit[i] = static_cast<uint8_t>(1u << (i % 8));
    }
    return t;
  }();
  alignas(64) uint32_t words[kW / 4];
  for (int i = 0; i < kW / 4; ++i) words[i] = LoadU32(rows[k * kRowsPerVec + i / 4] + qh_offset);
  const auto bytes = hn::TableLookupBytes(hn::BitCast(d, hn::Load(d32, words)), hn::Load(d, kTables.index[half]));
  const auto set = hn::Ne(hn::And(bytes, hn::Load(d, kTables.bit)), hn::Zero(d));
  return hn::IfThenElseZero(set, hn::Set(d, uint8_t{0x10}));
}

// hn::LoadDup128, except on SVE (16-byte vectors here), which loads plainly: the same vector, and
// it keeps ld1rq away from GCC 12's SLP vectorizer, which crashes on MatvecLegacy with it.
template <class D>
HWY_INLINE hn::Vec<D> LoadDup16(D d, const hn::TFromD<D>* HWY_RESTRICT p) {
#if HWY_HAVE_SCALABLE
  return hn::LoadU(d, p);
#else
  return hn::LoadDup128(d, p);
#endif
}

template <class Fmt>
HWY_INLINE VI32 DotQuants(VI32 acc, VU8 w, VI8 x) {
  if constexpr (Fmt::kKind == Kind::kByte && !POCKET_SIMD_VNNI) {
    return DotI8I8(acc, hn::BitCast(DI8(), w), x);
  } else {
    return DotU8I8(acc, w, x);
  }
}

// Integer block partials of the 4 vectors' rows: lanes of 128-bit block j belong to one row.
template <class Fmt>
HWY_INLINE VI32 RowPartials(const uint8_t* const* rows, int k, size_t off, VI8 x_lo, VI8 x_hi) {
  const DI32 di;
  const DU8 du8;
  if constexpr (Fmt::kKind == Kind::kByte) {
    VU8 lo = LoadRows16(rows, k, off + Fmt::kQs), hi = LoadRows16(rows, k, off + Fmt::kQs + 16);
    if constexpr (POCKET_SIMD_VNNI) {
      lo = hn::Xor(lo, hn::Set(du8, uint8_t{0x80}));
      hi = hn::Xor(hi, hn::Set(du8, uint8_t{0x80}));
    }
    return DotQuants<Fmt>(DotQuants<Fmt>(hn::Zero(di), lo, x_lo), hi, x_hi);
  } else {
    const DU16 d16;
    const VU8 v = LoadRows16(rows, k, off + Fmt::kQs);
    const auto mask = hn::Set(du8, uint8_t{0x0F});
    VU8 lo = hn::And(v, mask);
    VU8 hi = hn::And(hn::BitCast(du8, hn::ShiftRight<4>(hn::BitCast(d16, v))), mask);
    if constexpr (Fmt::kKind == Kind::kNibble5) {
      lo = hn::Or(lo, FifthBits(rows, k, off + Fmt::kQh, 0));
      hi = hn::Or(hi, FifthBits(rows, k, off + Fmt::kQh, 1));
    }
    return DotU8I8(DotU8I8(hn::Zero(di), lo, x_lo), hi, x_hi);
  }
}

// Lane-wise sums of adjacent lane pairs: lower half from lo, upper half from hi.
HWY_INLINE VI32 PairSums(VI32 lo, VI32 hi) {
  const DI32 d;
  return hn::Add(ConcatEvenV(d, hi, lo), ConcatOddV(d, hi, lo));
}

// The 16-bit fields at byte offsets `offset` (low half) and offset + 2 (high half) of each row.
HWY_INLINE VI32 GatherU32(const uint8_t* const* rows, VI32 row_offsets, size_t offset) {
#ifdef POCKET_EXP_GATHER
  return hn::GatherOffset(DI32(), reinterpret_cast<const int32_t*>(rows[0] + offset), row_offsets);
#else
  (void)row_offsets;
  alignas(64) int32_t v[kR];
  for (int r = 0; r < kR; ++r) v[r] = static_cast<int32_t>(LoadU32(rows[r] + offset));
  return hn::Load(DI32(), v);
#endif
}

HWY_INLINE VF32 HalfToFloat(VI32 bits16) {
  const DF32 df;
  const hn::Rebind<uint16_t, DI32> du16;
  const hn::Rebind<hwy::float16_t, DF32> dh;
  return hn::PromoteTo(df, hn::BitCast(dh, hn::DemoteTo(du16, bits16)));
}

// y[r - r0] = dot(row r, x) for one token.
template <class Fmt>
void MatvecLegacy(const WeightView& w, int64_t r0, int64_t r1, const uint8_t* xq, float* y) {
  const DI32 di;
  const DF32 df;
  const DI8 di8;
  const DU8 du8;
  const int64_t nb = w.cols / 32;
  // Σ activation quants per block (removes the stored quants' offset); cached for typical widths.
  constexpr int64_t kCached = 512;
  int32_t xsum_cache[kCached];
  const auto xsum_of = [&](int64_t b) {
    const uint8_t* xb = xq + static_cast<size_t>(b) * Fmt::kXBytes + Fmt::kXQs;
    const auto ones = hn::Set(du8, uint8_t{1});
    const VI8 lo = LoadDup16(di8, reinterpret_cast<const int8_t*>(xb));
    const VI8 hi = LoadDup16(di8, reinterpret_cast<const int8_t*>(xb) + 16);
    return ReduceSum(DotU8I8(DotU8I8(hn::Zero(di), ones, lo), ones, hi)) / kRowsPerVec;
  };
  if constexpr (Fmt::kOffset != 0) {
    for (int64_t b = 0; b < std::min(nb, kCached); ++b) xsum_cache[b] = xsum_of(b);
  }
  for (int64_t g = r0; g < r1; g += kR) {
    const uint8_t* rows[kR];
    alignas(64) int32_t offsets[kR];
    for (int r = 0; r < kR; ++r) {
      rows[r] = w.data + static_cast<size_t>(std::min(g + r, r1 - 1)) * w.row_bytes;
      offsets[r] = static_cast<int32_t>(rows[r] - rows[0]);
    }
    const VI32 row_offsets = hn::Load(di, offsets);
    // Many rows are read side by side in small steps, which the hardware prefetchers follow poorly:
    // while this group computes, request the next group's rows (contiguous in memory), spread
    // evenly over the block loop.
    const uint8_t* next = w.data + static_cast<size_t>(std::min(g + kR, r1)) * w.row_bytes;
    const size_t next_lines =
        static_cast<size_t>(std::max<int64_t>(0, std::min(r1, g + 2 * kR) - g - kR)) * w.row_bytes / 64;
    const size_t lines_per_block = (next_lines + static_cast<size_t>(nb) - 1) / static_cast<size_t>(nb);
    VF32 acc = hn::Zero(df);
    for (int64_t b = 0; b < nb; ++b) {
      const size_t off = static_cast<size_t>(b) * Fmt::kBytes;
      for (size_t i = 0, l = static_cast<size_t>(b) * lines_per_block; i < lines_per_block && l < next_lines;
           ++i, ++l) {
        hwy::Prefetch(next + 64 * l);
      }
      const uint8_t* xb = xq + static_cast<size_t>(b) * Fmt::kXBytes;
      const VI8 x_lo = LoadDup16(di8, reinterpret_cast<const int8_t*>(xb + Fmt::kXQs));
      const VI8 x_hi = LoadDup16(di8, reinterpret_cast<const int8_t*>(xb + Fmt::kXQs + 16));
      const VI32 p0 = RowPartials<Fmt>(rows, 0, off, x_lo, x_hi);
      const VI32 p1 = RowPartials<Fmt>(rows, 1, off, x_lo, x_hi);
      const VI32 p2 = RowPartials<Fmt>(rows, 2, off, x_lo, x_hi);
      const VI32 p3 = RowPartials<Fmt>(rows, 3, off, x_lo, x_hi);
      VI32 sumi = PairSums(PairSums(p0, p1), PairSums(p2, p3));  // lane r: exact block sum of row r
      if constexpr (Fmt::kOffset != 0) {
        sumi = hn::Sub(sumi, hn::Set(di, Fmt::kOffset * (b < kCached ? xsum_cache[b] : xsum_of(b))));
      }
      const VI32 fields = GatherU32(rows, row_offsets, off);  // d, and m for the *_1 formats
      const VF32 dx = HalfToFloat(hn::And(fields, hn::Set(di, 0xFFFF)));
      const VF32 dy = hn::Set(df, LoadF16(xb));
      VF32 mx = dx, sy = dy;
      if constexpr (Fmt::kMin) {
        mx = HalfToFloat(hn::BitCast(di, hn::ShiftRight<16>(hn::BitCast(DU32(), fields))));
        sy = hn::Set(df, LoadF16(xb + 2));
      }
      acc = hn::Add(acc, Fmt::Term(hn::ConvertTo(df, sumi), dx, dy, mx, sy));
    }
    alignas(64) float out[kR];
    hn::Store(acc, df, out);
    for (int r = 0; r < kR && g + r < r1; ++r) y[g + r - r0] = out[r];
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
  // Several tokens: rows in chunks small enough to stay in L2 while every token passes over them,
  // so DRAM is read once. (A chunk is a multiple of every target's row group.)
  constexpr int64_t kChunkRows = 64;
  const int64_t chunk = x.n_tokens == 1 ? r1 - r0 : kChunkRows;
  for (int64_t c0 = r0; c0 < r1; c0 += chunk) {
    const int64_t c1 = std::min(r1, c0 + chunk);
    for (int64_t t = 0; t < x.n_tokens; ++t) {
      const uint8_t* xq = x.xq + static_cast<size_t>(t) * x.xq_stride;
      float* yt = y + t * y_stride + c0;
      if (detail::is_k_format(w.type)) {
        detail::matvec_k(w, c0, c1, xq, yt);
      } else {
        HWY_DYNAMIC_DISPATCH(MatvecLegacyOrFloat)(w, c0, c1, xq, yt);
      }
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
