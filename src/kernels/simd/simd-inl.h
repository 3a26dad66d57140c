// Per-target helpers shared by the SIMD kernel files (included once per Highway target, like any
// -inl.h: the include guard toggles with HWY_TARGET_TOGGLE).
//
// Integer dot products follow VNNI's shape: lane i of an int32 vector accumulates the four byte
// products of bytes 4i..4i+3. AVX3_DL uses vpdpbusd, AVX2 / AVX3 pmaddubsw + pmaddwd, every other
// target (SSE4 on x86, NEON, SVE, ...) widens to int16 with portable Highway ops.

#if defined(POCKET_SIMD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef POCKET_SIMD_INL_H_
#undef POCKET_SIMD_INL_H_
#else
#define POCKET_SIMD_INL_H_
#endif

#include <cstdint>
#include <cstring>

#include "hwy/highway.h"
#include "tensor/fp16.h"

// Per-target macros: this file is included once per target, so each is #undef'd and defined anew.
#undef POCKET_BEFORE_NAMESPACE
#undef POCKET_SIMD_X86
#undef POCKET_SIMD_VNNI
#undef POCKET_W

// POCKET_BEFORE_NAMESPACE() replaces HWY_BEFORE_NAMESPACE() in the kernel files (closed by
// HWY_AFTER_NAMESPACE() as usual). Highway 1.0.3's AVX3_DL target string lacks avx512vnni (it names
// avxvnni), so on that target the string pushed gets it appended. It has to be that one push: GCC
// would also take a second `#pragma GCC target("avx512vnni")`, but clang keeps a single target
// attribute per function (the outermost push's), and its always_inline VNNI intrinsics then refuse
// to inline.
#if HWY_TARGET == HWY_AVX3_DL
#define POCKET_BEFORE_NAMESPACE()                   \
  HWY_PUSH_ATTRIBUTES(HWY_TARGET_STR ",avx512vnni") \
  static_assert(true, "For requiring trailing semicolon")
#else
#define POCKET_BEFORE_NAMESPACE() HWY_BEFORE_NAMESPACE()
#endif

POCKET_BEFORE_NAMESPACE();
namespace pocket::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET != HWY_SCALAR

// Raw x86 intrinsics only on the wide x86 targets; everything else takes the portable path.
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
#define POCKET_SIMD_X86 1
#else
#define POCKET_SIMD_X86 0
#endif
#define POCKET_SIMD_VNNI (HWY_TARGET == HWY_AVX3_DL)

// Kernel vector width in bytes: full AVX-512 / AVX2 registers, otherwise 16-byte vectors (SSE4,
// NEON, and SVE at any hardware length) so block layouts map onto whole vectors.
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
#define POCKET_W 64
#elif HWY_TARGET == HWY_AVX2
#define POCKET_W 32
#else
#define POCKET_W 16
#endif
inline constexpr int kW = POCKET_W;

using DI32 = hn::FixedTag<int32_t, kW / 4>;
using DF32 = hn::FixedTag<float, kW / 4>;
using DU8 = hn::FixedTag<uint8_t, kW>;
using DI8 = hn::FixedTag<int8_t, kW>;
using DI16 = hn::FixedTag<int16_t, kW / 2>;
using DU16 = hn::FixedTag<uint16_t, kW / 2>;
using DU32 = hn::FixedTag<uint32_t, kW / 4>;
using VI32 = hn::Vec<DI32>;
using VF32 = hn::Vec<DF32>;
using VU8 = hn::Vec<DU8>;
using VI8 = hn::Vec<DI8>;

// acc[i] += Σ_{j<4} u[4i+j] * s[4i+j] for u8 u and i8 s. Without VNNI, pairs of products are summed
// in int16 first: callers keep u ≤ 128 so that cannot saturate (|s| ≤ 127).
HWY_INLINE VI32 DotU8I8(VI32 acc, VU8 u, VI8 s) {
#if POCKET_SIMD_VNNI
  return VI32{_mm512_dpbusd_epi32(acc.raw, u.raw, s.raw)};
#elif POCKET_SIMD_X86 && HWY_TARGET <= HWY_AVX3
  const __m512i p16 = _mm512_maddubs_epi16(u.raw, s.raw);
  return hn::Add(acc, VI32{_mm512_madd_epi16(p16, _mm512_set1_epi16(1))});
#elif POCKET_SIMD_X86
  const __m256i p16 = _mm256_maddubs_epi16(u.raw, s.raw);
  return hn::Add(acc, VI32{_mm256_madd_epi16(p16, _mm256_set1_epi16(1))});
#else
  const DI32 d32;
  const DI16 d16;
  const DU16 du16;
  const auto u_even = hn::BitCast(d16, hn::And(hn::BitCast(du16, u), hn::Set(du16, 0xFF)));
  const auto u_odd = hn::BitCast(d16, hn::ShiftRight<8>(hn::BitCast(du16, u)));
  const auto s_even = hn::ShiftRight<8>(hn::ShiftLeft<8>(hn::BitCast(d16, s)));
  const auto s_odd = hn::ShiftRight<8>(hn::BitCast(d16, s));
  auto sum1 = hn::Zero(d32);
  auto sum0 = hn::ReorderWidenMulAccumulate(d32, u_even, s_even, hn::Zero(d32), sum1);
  sum0 = hn::ReorderWidenMulAccumulate(d32, u_odd, s_odd, sum0, sum1);
  return hn::Add(acc, hn::RearrangeToOddPlusEven(sum0, sum1));
#endif
}

// acc[i] += Σ_{j<4} a[4i+j] * b[4i+j] for i8 a, b with b in [-127, 127] (a may be -128).
HWY_INLINE VI32 DotI8I8(VI32 acc, VI8 a, VI8 b) {
  const DI8 di8;
  const DU8 du8;
  // |a| * (sign(a) b): |a| ≤ 128 fits u8 and keeps the int16 pair sums in range.
  const VI8 b_signed = hn::IfThenElse(hn::Lt(a, hn::Zero(di8)), hn::Neg(b), b);
  return DotU8I8(acc, hn::BitCast(du8, hn::Abs(a)), b_signed);
}

// v rounded to an integer, halves away from zero (C's roundf), exact for |v| < 2^23.
HWY_INLINE VF32 RoundHalfAway(VF32 v) {
  const DF32 df;
  const VF32 t = hn::Trunc(v);
  const VF32 frac = hn::Abs(hn::Sub(v, t));
  const VF32 step = hn::CopySignToAbs(hn::Set(df, 1.0f), v);
  return hn::Add(t, hn::IfThenElseZero(hn::Ge(frac, hn::Set(df, 0.5f)), step));
}

// Rows whose same 16-byte chunk one vector holds (one row per 128-bit block): 4, 2 or 1.
inline constexpr int kRowsPerVec = kW / 16;

// The 16 bytes at `offset` of rows k*kRowsPerVec .. (k+1)*kRowsPerVec - 1, one row per 128-bit block.
HWY_INLINE VU8 LoadRows16(const uint8_t* const* rows, int k, size_t offset) {
  const hn::FixedTag<uint8_t, 16> d16;
#if POCKET_W == 64
  const DU8 d;
  const hn::Half<DU8> dh;
  const uint8_t* const* r = rows + 4 * k;
  return hn::Combine(d, hn::Combine(dh, hn::LoadU(d16, r[3] + offset), hn::LoadU(d16, r[2] + offset)),
                     hn::Combine(dh, hn::LoadU(d16, r[1] + offset), hn::LoadU(d16, r[0] + offset)));
#elif POCKET_W == 32
  const DU8 d;
  return hn::Combine(d, hn::LoadU(d16, rows[2 * k + 1] + offset), hn::LoadU(d16, rows[2 * k] + offset));
#else
  return hn::LoadU(d16, rows[k] + offset);
#endif
}

// hn::ConcatEven / hn::ConcatOdd for the kernels' vectors. On SVE_256 Highway 1.0.3 applies uzp1 /
// uzp2 to the whole 32-byte register even for our 16-byte vectors, so lanes from their unused upper
// halves end up in the result; there, Highway's generic SVE way: each input's even (odd) lanes,
// spliced after Lanes / 2.
#if HWY_TARGET == HWY_SVE_256 && HWY_MAJOR == 1 && HWY_MINOR == 0
template <class D>
HWY_INLINE hn::Vec<D> ConcatEvenV(D d, hn::Vec<D> hi, hn::Vec<D> lo) {
  return hn::detail::Splice(hn::detail::ConcatEvenFull(hi, hi), hn::detail::ConcatEvenFull(lo, lo),
                            hn::FirstN(d, hn::Lanes(d) / 2));
}
template <class D>
HWY_INLINE hn::Vec<D> ConcatOddV(D d, hn::Vec<D> hi, hn::Vec<D> lo) {
  return hn::detail::Splice(hn::detail::ConcatOddFull(hi, hi), hn::detail::ConcatOddFull(lo, lo),
                            hn::FirstN(d, hn::Lanes(d) / 2));
}
#else
template <class D>
HWY_INLINE hn::Vec<D> ConcatEvenV(D d, hn::Vec<D> hi, hn::Vec<D> lo) {
  return hn::ConcatEven(d, hi, lo);
}
template <class D>
HWY_INLINE hn::Vec<D> ConcatOddV(D d, hn::Vec<D> hi, hn::Vec<D> lo) {
  return hn::ConcatOdd(d, hi, lo);
}
#endif

// Transposes the dwords of 4 LoadRows16 vectors z0..z3 (rows 0..R-1, 4 dwords each) into 4 vectors,
// vj lane r = dword j of row r. (Vectors are passed one by one: SVE's sizeless vector types allow
// no arrays or pointer arithmetic.)
HWY_INLINE void TransposeRows16(VU8 z0, VU8 z1, VU8 z2, VU8 z3, VU8& v0, VU8& v1, VU8& v2, VU8& v3) {
  const DU32 d;
  const auto w0 = hn::BitCast(d, z0), w1 = hn::BitCast(d, z1), w2 = hn::BitCast(d, z2), w3 = hn::BitCast(d, z3);
  const auto a = ConcatEvenV(d, w1, w0), b = ConcatOddV(d, w1, w0);  // rows 0..R/2-1: dwords 0,2 / 1,3
  const auto c = ConcatEvenV(d, w3, w2), e = ConcatOddV(d, w3, w2);  // rows R/2..R-1
  const DU8 d8;
  v0 = hn::BitCast(d8, ConcatEvenV(d, c, a));
  v1 = hn::BitCast(d8, ConcatEvenV(d, e, b));
  v2 = hn::BitCast(d8, ConcatOddV(d, c, a));
  v3 = hn::BitCast(d8, ConcatOddV(d, e, b));
}

// Sum of all lanes.
template <class D>
HWY_INLINE hn::TFromD<D> ReduceSumD(D d, hn::Vec<D> v) {
  return hn::GetLane(hn::SumOfLanes(d, v));
}
HWY_INLINE int32_t ReduceSum(VI32 v) { return hn::GetLane(hn::SumOfLanes(DI32(), v)); }
HWY_INLINE float ReduceSum(VF32 v) { return hn::GetLane(hn::SumOfLanes(DF32(), v)); }

#endif  // HWY_TARGET != HWY_SCALAR

// Unaligned little-endian loads of block fields.
HWY_INLINE float LoadF16(const void* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return fp16_to_fp32(h);
}
HWY_INLINE uint32_t LoadU32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace pocket::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // include guard
