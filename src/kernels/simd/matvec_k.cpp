// Decode-shaped products for the K formats (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) against Q8_K activations.
//
// Each 256-element super-block is unpacked into eight 32-byte pieces of unsigned quants in element
// order (two pieces per AVX-512 vector, one per AVX2 vector); byte dot products give per-lane
// integer sums, which are scaled by the sub-block scales in int32 (exact), converted once per
// super-block and accumulated with an FMA. Offsets of the signed formats (q - 4, q - 32) and the
// min terms are folded in through the activation block sums (bsums). The float summation order
// differs from the reference's, so results match vec_dot_ref to a relative tolerance only.
// 16-byte targets (SSE4, NEON, SVE) use the scalar reference for these formats.

#include "kernels/simd/hwy_config.h"

// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/matvec_k.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include <cstring>

#include "hwy/highway.h"
#include "kernels/simd/internal.h"
#include "kernels/simd/simd-inl.h"
#include "kernels/simd/simd.h"
#include "tensor/blocks.h"
#include "tensor/quants.h"

POCKET_BEFORE_NAMESPACE();  // HWY_BEFORE_NAMESPACE() with avx512vnni on AVX3_DL (simd-inl.h)
namespace pocket::simd::HWY_NAMESPACE {

#if HWY_TARGET == HWY_SCALAR || POCKET_W < 32

void MatvecK(const WeightView& w, int64_t r0, int64_t r1, const uint8_t* xq, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    y[r - r0] = vec_dot_ref(w.type, w.data + static_cast<size_t>(r) * w.row_bytes, xq, w.cols);
  }
}

#else

using D32 = hn::FixedTag<uint8_t, 32>;  // one piece: 32 quants
using P32 = hn::Vec<D32>;

HWY_INLINE P32 Load32(const uint8_t* p) { return hn::LoadU(D32(), p); }
HWY_INLINE P32 Shr(P32 v, int bits) {
  const hn::FixedTag<uint16_t, 16> d16;
  return hn::BitCast(D32(), hn::ShiftRightSame(hn::BitCast(d16, v), bits));
}
HWY_INLINE P32 Bits(P32 v, int shift, uint8_t mask) { return hn::And(Shr(v, shift), hn::Set(D32(), mask)); }
HWY_INLINE P32 Shl(P32 v, int bits) {
  const hn::FixedTag<uint16_t, 16> d16;
  return hn::BitCast(D32(), hn::ShiftLeftSame(hn::BitCast(d16, v), bits));
}

// A super-block unpacked: quants (unsigned) in element order and sub-block scales.
using D16B = hn::FixedTag<int8_t, 16>;

using D8I32 = hn::FixedTag<int32_t, 8>;
using D8F32 = hn::FixedTag<float, 8>;

struct Unpacked {
  P32 q[8];
  hn::Vec<D16B> scale;  // per sub-block (8 of 32 elements, lanes 8..15 unused, or 16 of 16); fit int8
  int sub;              // sub-block size: 32 or 16
  float d;              // super-block scale times the activation scale
  // Constant term = bias_scale * Σ lanes of bias_terms: -(dmin * dy) * Σ min * bsum, or
  // -(d * dy) * offset * Σ scale * bsum. Kept as a vector and reduced once per row, not per block.
  hn::Vec<D8I32> bias_terms;
  float bias_scale;
};

// Lane-wise partial sums (8 lanes) of Σ_j a[j] * bsums[j] over the 16 sub-block sums of a Q8_K block.
HWY_INLINE hn::Vec<D8I32> DotBsums(hn::Vec<hn::FixedTag<int16_t, 16> > a, const int16_t* bsums) {
  const hn::FixedTag<int16_t, 16> d16;
  const D8I32 d32;
  auto sum1 = hn::Zero(d32);
  const auto sum0 = hn::ReorderWidenMulAccumulate(d32, a, hn::LoadU(d16, bsums), hn::Zero(d32), sum1);
  return hn::RearrangeToOddPlusEven(sum0, sum1);
}

// Exact half → float with the F16C instruction (these targets all have it).
HWY_INLINE float F16(uint16_t h) { return _cvtsh_ss(h); }

// 16 int8 values widened to int16.
HWY_INLINE hn::Vec<hn::FixedTag<int16_t, 16> > Widen16(hn::Vec<D16B> v) {
  return hn::PromoteTo(hn::FixedTag<int16_t, 16>(), v);
}

// q4_K / q5_K: the 8 scales (lanes 0..7) and 8 mins (lanes 8..15) decoded from the 12 packed bytes
// with word operations (same values as get_scale_min_k4), and Σ_j min_j * (bsums[2j] + bsums[2j + 1]).
HWY_INLINE hn::Vec<D8I32> ScalesAndMinTermK4(const uint8_t* packed, const int16_t* bsums, hn::Vec<D16B>* scale) {
  constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
  uint32_t w[3];
  std::memcpy(w, packed, 12);
  const uint32_t sc_lo = w[0] & kLow6;
  const uint32_t sc_hi = (w[2] & kLow4) | (((w[0] >> 6) & kLow2) << 4);
  const uint32_t m_lo = w[1] & kLow6;
  const uint32_t m_hi = ((w[2] >> 4) & kLow4) | (((w[1] >> 6) & kLow2) << 4);
  // Built in registers: a store / wider reload would stall store forwarding.
  const hn::FixedTag<uint32_t, 4> d32;
  const auto words = hn::Vec<decltype(d32)>{
      _mm_set_epi32(static_cast<int>(m_hi), static_cast<int>(m_lo), static_cast<int>(sc_hi), static_cast<int>(sc_lo))};
  *scale = hn::BitCast(D16B(), words);
  // Each min twice, to pair with both 16-element halves of its sub-block.
  const hn::FixedTag<int16_t, 8> d8;
  const hn::FixedTag<int8_t, 8> di8x8;
  const auto mins = hn::PromoteTo(d8, hn::UpperHalf(di8x8, *scale));
  const hn::FixedTag<int16_t, 16> d16;
  return DotBsums(hn::Combine(d16, hn::InterleaveUpper(d8, mins, mins), hn::InterleaveLower(d8, mins, mins)), bsums);
}

HWY_INLINE void UnpackQ4K(const BlockQ4_K& b, const BlockQ8_K& x, Unpacked& u) {
  u.bias_terms = ScalesAndMinTermK4(b.scales, x.bsums, &u.scale);
  for (int c = 0; c < 4; ++c) {
    const P32 v = Load32(b.qs + 32 * c);
    u.q[2 * c] = Bits(v, 0, 0x0F);
    u.q[2 * c + 1] = Bits(v, 4, 0x0F);
  }
  u.sub = 32;
  u.d = F16(b.d) * x.d;
  u.bias_scale = -(F16(b.dmin) * x.d);
}

HWY_INLINE void UnpackQ5K(const BlockQ5_K& b, const BlockQ8_K& x, Unpacked& u) {
  u.bias_terms = ScalesAndMinTermK4(b.scales, x.bsums, &u.scale);
  const P32 qh = Load32(b.qh);
  for (int c = 0; c < 4; ++c) {
    const P32 v = Load32(b.qs + 32 * c);
    u.q[2 * c] = hn::Or(Bits(v, 0, 0x0F), Shl(Bits(qh, 2 * c, 1), 4));
    u.q[2 * c + 1] = hn::Or(Bits(v, 4, 0x0F), Shl(Bits(qh, 2 * c + 1, 1), 4));
  }
  u.sub = 32;
  u.d = F16(b.d) * x.d;
  u.bias_scale = -(F16(b.dmin) * x.d);
}

HWY_INLINE void UnpackQ6K(const BlockQ6_K& b, const BlockQ8_K& x, Unpacked& u) {
  u.scale = hn::LoadU(D16B(), b.scales);
  u.bias_terms = DotBsums(Widen16(u.scale), x.bsums);
  for (int h = 0; h < 2; ++h) {
    const P32 a = Load32(b.ql + 64 * h), c = Load32(b.ql + 64 * h + 32), qh = Load32(b.qh + 32 * h);
    u.q[4 * h + 0] = hn::Or(Bits(a, 0, 0x0F), Shl(Bits(qh, 0, 3), 4));
    u.q[4 * h + 1] = hn::Or(Bits(c, 0, 0x0F), Shl(Bits(qh, 2, 3), 4));
    u.q[4 * h + 2] = hn::Or(Bits(a, 4, 0x0F), Shl(Bits(qh, 4, 3), 4));
    u.q[4 * h + 3] = hn::Or(Bits(c, 4, 0x0F), Shl(Bits(qh, 6, 3), 4));
  }
  u.sub = 16;
  u.d = F16(b.d) * x.d;
  u.bias_scale = -32.0f * u.d;  // quants are stored + 32
}

HWY_INLINE void UnpackQ3K(const BlockQ3_K& b, const BlockQ8_K& x, Unpacked& u) {
  alignas(16) int8_t sc[16];
  for (int j = 0; j < 16; ++j) sc[j] = static_cast<int8_t>(q3_k_scale(b.scales, j) - 32);
  u.scale = hn::Load(D16B(), sc);
  u.bias_terms = DotBsums(Widen16(u.scale), x.bsums);
  const P32 hm = Load32(b.hmask);
  for (int h = 0; h < 2; ++h) {
    const P32 v = Load32(b.qs + 32 * h);
    for (int j = 0; j < 4; ++j) {
      const int p = 4 * h + j;
      u.q[p] = hn::Or(Bits(v, 2 * j, 3), Shl(Bits(hm, p, 1), 2));
    }
  }
  u.sub = 16;
  u.d = F16(b.d) * x.d;
  u.bias_scale = -4.0f * u.d;  // quants are stored + 4
}

HWY_INLINE void UnpackQ2K(const BlockQ2_K& b, const BlockQ8_K& x, Unpacked& u) {
  const hn::FixedTag<uint8_t, 16> du;
  const auto packed = hn::LoadU(du, b.scales);
  u.scale = hn::BitCast(D16B(), hn::And(packed, hn::Set(du, uint8_t{0xF})));
  const auto mins = hn::BitCast(D16B(), hn::ShiftRight<4>(packed));
  u.bias_terms = DotBsums(Widen16(mins), x.bsums);
  for (int h = 0; h < 2; ++h) {
    const P32 v = Load32(b.qs + 32 * h);
    for (int j = 0; j < 4; ++j) u.q[4 * h + j] = Bits(v, 2 * j, 3);
  }
  u.sub = 16;
  u.d = F16(b.d) * x.d;
  u.bias_scale = -(F16(b.dmin) * x.d);
}

// Σ_e scale(e) * q(e) * x(e) over the super-block, as int32 lanes.
HWY_INLINE VI32 ScaledDot(const Unpacked& u, const int8_t* xqs) {
  const DI32 di;
  VI32 isum = hn::Zero(di);
#if POCKET_W == 64
  // Lane i of chunk k (64 elements) belongs to sub-block (64k + 4i) / sub.
  alignas(64) static constexpr auto kIndex = [] {
    struct {
      int32_t sub32[4][16];
      int32_t sub16[4][16];
    } t{};
    for (int k = 0; k < 4; ++k) {
      for (int i = 0; i < 16; ++i) {
        t.sub32[k][i] = (64 * k + 4 * i) / 32;
        t.sub16[k][i] = (64 * k + 4 * i) / 16;
      }
    }
    return t;
  }();
  const DU8 du8;
  const DI8 di8;
  const VI32 all = hn::PromoteTo(di, u.scale);
  for (int k = 0; k < 4; ++k) {
    const VU8 q = hn::Combine(du8, u.q[2 * k + 1], u.q[2 * k]);
    const VI32 dp = DotU8I8(hn::Zero(di), q, hn::LoadU(di8, xqs + 64 * k));
    const int32_t* index = u.sub == 32 ? kIndex.sub32[k] : kIndex.sub16[k];
    const VI32 sc = hn::TableLookupLanes(all, hn::SetTableIndices(di, index));
    isum = hn::Add(isum, hn::Mul(dp, sc));
  }
#else
  const DI8 di8;
  alignas(16) int8_t scale[16];
  hn::Store(u.scale, D16B(), scale);
  for (int p = 0; p < 8; ++p) {
    const VI32 dp = DotU8I8(hn::Zero(di), u.q[p], hn::LoadU(di8, xqs + 32 * p));
    const VI32 sc = u.sub == 32
                        ? hn::Set(di, scale[p])
                        : hn::IfThenElse(hn::FirstN(di, 4), hn::Set(di, scale[2 * p]), hn::Set(di, scale[2 * p + 1]));
    isum = hn::Add(isum, hn::Mul(dp, sc));
  }
#endif
  return isum;
}

template <class Block, void (*Unpack)(const Block&, const BlockQ8_K&, Unpacked&)>
float DotK(const Block* w, const BlockQ8_K* x, int64_t nb) {
  const DF32 df;
  const D8F32 df8;
  VF32 acc = hn::Zero(df);
  hn::Vec<D8F32> bias = hn::Zero(df8);
  for (int64_t i = 0; i < nb; ++i) {
    Unpacked u;
    Unpack(w[i], x[i], u);
    acc = hn::MulAdd(hn::ConvertTo(df, ScaledDot(u, x[i].qs)), hn::Set(df, u.d), acc);
    bias = hn::MulAdd(hn::ConvertTo(df8, u.bias_terms), hn::Set(df8, u.bias_scale), bias);
  }
  return ReduceSum(acc) + ReduceSumD(df8, bias);
}

#if POCKET_W == 64
// Q4_K and Q6_K, the bulk of Q4_K_M / Q5_K_M files, unpack straight into 64-element vectors: one
// broadcast load of 32 packed bytes and a per-half variable shift give both nibble halves, instead
// of two 32-byte pieces combined afterwards.

// Per 16-bit lane shift counts: `lo` for the lower 256 bits, `hi` for the upper.
HWY_INLINE __m512i HalfShifts(int lo, int hi) {
  return _mm512_inserti64x4(_mm512_set1_epi16(static_cast<int16_t>(lo)), _mm256_set1_epi16(static_cast<int16_t>(hi)),
                            1);
}

// Lane i of 64-element chunk k belongs to sub-block (64k + 4i) / sub.
template <int kSub>
HWY_INLINE VI32 ChunkScales(VI32 all, int k) {
  alignas(64) static constexpr auto kIndex = [] {
    struct {
      int32_t v[4][16];
    } t{};
    for (int c = 0; c < 4; ++c) {
      for (int i = 0; i < 16; ++i) t.v[c][i] = (64 * c + 4 * i) / kSub;
    }
    return t;
  }();
  return hn::TableLookupLanes(all, hn::SetTableIndices(DI32(), kIndex.v[k]));
}

float DotQ4K64(const BlockQ4_K* w, const BlockQ8_K* x, int64_t nb) {
  const DF32 df;
  const D8F32 df8;
  const DI32 di;
  const DI8 di8;
  const __m512i shifts = HalfShifts(0, 4), low4 = _mm512_set1_epi8(0x0F);
  VF32 acc = hn::Zero(df);
  hn::Vec<D8F32> bias = hn::Zero(df8);
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ4_K& b = w[i];
    hn::Vec<D16B> sc;
    const auto min_terms = ScalesAndMinTermK4(b.scales, x[i].bsums, &sc);
    const VI32 all = hn::PromoteTo(di, sc);
    VI32 isum = hn::Zero(di);
    for (int k = 0; k < 4; ++k) {
      // Chunk k: elements 64k..64k+31 are the low nibbles of qs[32k..32k+31], the next 32 the high.
      const __m512i packed =
          _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * k)));
      const VU8 q{_mm512_and_si512(_mm512_srlv_epi16(packed, shifts), low4)};
      const VI32 dp = DotU8I8(hn::Zero(di), q, hn::LoadU(di8, x[i].qs + 64 * k));
      isum = hn::Add(isum, hn::Mul(dp, ChunkScales<32>(all, k)));
    }
    acc = hn::MulAdd(hn::ConvertTo(df, isum), hn::Set(df, F16(b.d) * x[i].d), acc);
    bias = hn::MulAdd(hn::ConvertTo(df8, min_terms), hn::Set(df8, -(F16(b.dmin) * x[i].d)), bias);
  }
  return ReduceSum(acc) + ReduceSumD(df8, bias);
}

float DotQ6K64(const BlockQ6_K* w, const BlockQ8_K* x, int64_t nb) {
  const DF32 df;
  const D8F32 df8;
  const DI32 di;
  const DI8 di8;
  const __m512i low4 = _mm512_set1_epi8(0x0F), low2 = _mm512_set1_epi8(0x03);
  const __m512i qh_lo = HalfShifts(0, 2), qh_hi = HalfShifts(4, 6);
  VF32 acc = hn::Zero(df);
  hn::Vec<D8F32> bias = hn::Zero(df8);
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ6_K& b = w[i];
    const auto sc = hn::LoadU(D16B(), b.scales);
    const auto corr = DotBsums(Widen16(sc), x[i].bsums);
    const VI32 all = hn::PromoteTo(di, sc);
    VI32 isum = hn::Zero(di);
    for (int h = 0; h < 2; ++h) {
      // Half h (128 elements): ql[64h..64h+63] low nibbles are elements 0..63, high nibbles 64..127;
      // qh[32h..32h+31] bit pairs 0,1 / 2,3 / 4,5 / 6,7 are the top bits of the four 32-element pieces.
      const __m512i ql = _mm512_loadu_si512(b.ql + 64 * h);
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * h)));
      const __m512i top_lo = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, qh_lo), low2), 4);
      const __m512i top_hi = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, qh_hi), low2), 4);
      const VU8 q0{_mm512_or_si512(_mm512_and_si512(ql, low4), top_lo)};
      const VU8 q1{_mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4), top_hi)};
      const VI32 dp0 = DotU8I8(hn::Zero(di), q0, hn::LoadU(di8, x[i].qs + 128 * h));
      const VI32 dp1 = DotU8I8(hn::Zero(di), q1, hn::LoadU(di8, x[i].qs + 128 * h + 64));
      isum = hn::Add(isum, hn::Mul(dp0, ChunkScales<16>(all, 2 * h)));
      isum = hn::Add(isum, hn::Mul(dp1, ChunkScales<16>(all, 2 * h + 1)));
    }
    const float d = F16(b.d) * x[i].d;
    acc = hn::MulAdd(hn::ConvertTo(df, isum), hn::Set(df, d), acc);
    bias = hn::MulAdd(hn::ConvertTo(df8, corr), hn::Set(df8, -32.0f * d), bias);  // quants are stored + 32
  }
  return ReduceSum(acc) + ReduceSumD(df8, bias);
}
#endif  // POCKET_W == 64

template <class Block, float (*Dot)(const Block*, const BlockQ8_K*, int64_t)>
void MatvecKT(const WeightView& w, int64_t r0, int64_t r1, const uint8_t* xq, float* y) {
  const int64_t nb = w.cols / kQK_K;
  const auto* x = reinterpret_cast<const BlockQ8_K*>(xq);
  for (int64_t r = r0; r < r1; ++r) {
    y[r - r0] = Dot(reinterpret_cast<const Block*>(w.data + static_cast<size_t>(r) * w.row_bytes), x, nb);
  }
}

void MatvecK(const WeightView& w, int64_t r0, int64_t r1, const uint8_t* xq, float* y) {
  switch (w.type) {
    case GgmlType::Q2_K:
      return MatvecKT<BlockQ2_K, DotK<BlockQ2_K, UnpackQ2K> >(w, r0, r1, xq, y);
    case GgmlType::Q3_K:
      return MatvecKT<BlockQ3_K, DotK<BlockQ3_K, UnpackQ3K> >(w, r0, r1, xq, y);
    case GgmlType::Q4_K:
#if POCKET_W == 64
      return MatvecKT<BlockQ4_K, DotQ4K64>(w, r0, r1, xq, y);
#else
      return MatvecKT<BlockQ4_K, DotK<BlockQ4_K, UnpackQ4K> >(w, r0, r1, xq, y);
#endif
    case GgmlType::Q5_K:
      return MatvecKT<BlockQ5_K, DotK<BlockQ5_K, UnpackQ5K> >(w, r0, r1, xq, y);
    case GgmlType::Q6_K:
#if POCKET_W == 64
      return MatvecKT<BlockQ6_K, DotQ6K64>(w, r0, r1, xq, y);
#else
      return MatvecKT<BlockQ6_K, DotK<BlockQ6_K, UnpackQ6K> >(w, r0, r1, xq, y);
#endif
    default:
      for (int64_t r = r0; r < r1; ++r) {
        y[r - r0] = vec_dot_ref(w.type, w.data + static_cast<size_t>(r) * w.row_bytes, xq, w.cols);
      }
  }
}

#endif  // HWY_TARGET == HWY_SCALAR || POCKET_W < 32

}  // namespace pocket::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace pocket::simd::detail {

HWY_EXPORT(MatvecK);

void matvec_k(const WeightView& w, int64_t r0, int64_t r1, const uint8_t* xq, float* y) {
  HWY_DYNAMIC_DISPATCH(MatvecK)(w, r0, r1, xq, y);
}

bool is_k_format(GgmlType t) {
  switch (t) {
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return true;
    default:
      return false;
  }
}

}  // namespace pocket::simd::detail
#endif  // HWY_ONCE
