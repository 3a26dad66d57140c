// Prefill-shaped products: many tokens against a weight matrix, with repacked weight panels and
// register-tiled integer kernels.
//
// Panel layout (P = int32 lanes per vector rows; U = 32-element block or 16-element K sub-block):
// for each unit u of the row, [U/4 groups][P rows][4 quant bytes] followed by P float scales and,
// for formats with a min, P float mins. One vector load then holds 4 consecutive quants of P rows,
// and a broadcast of 4 activation bytes of one token multiplies all of them (vpdpbusd shape), so
// every weight byte loaded serves a tile of T tokens. Quants are stored unsigned (true quant +
// offset); the offset is removed through the activation block sums kept in the token data.
//
// Legacy formats combine each block's exact integer sum with the reference's float expression, so
// results stay bit-exact with vec_dot_ref; K formats use an FMA and match to a relative tolerance.
// F32 / F16 / BF16 weights use the decode kernel per token (they are rare in quantized models).

#include "kernels/simd/hwy_config.h"

// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/gemm.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "kernels/simd/simd-inl.h"
#include "kernels/simd/simd.h"
#include "kernels/simd/stored_panels.h"
#include "tensor/blocks.h"
#include "tensor/quants.h"

#ifndef POCKET_SIMD_GEMM_DETAIL_ONCE  // target-independent part: once per translation unit
#define POCKET_SIMD_GEMM_DETAIL_ONCE
namespace pocket::simd::gemm_detail {

// Per-token block data, one record per unit: the activation scale, the integer offset correction
// (offset * Σ activation quants of the unit) and the partner of the weight min (Q8_1's s, or dy * Σ).
struct TokenUnit {
  float dy;
  int32_t corr;
  float ms;
};

inline int64_t unit_size(GgmlType w) {
  switch (w) {
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
    case GgmlType::Q6_K:
      return 16;
    default:
      return 32;
  }
}

inline bool has_min(GgmlType w) {
  switch (w) {
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
    case GgmlType::Q2_K:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
      return true;
    default:
      return false;
  }
}

inline bool is_float(GgmlType w) { return w == GgmlType::F32 || w == GgmlType::F16 || w == GgmlType::BF16; }

}  // namespace pocket::simd::gemm_detail

// The tiles keep one accumulator per token in separate variables acc0..acc7 (SVE's sizeless vector
// types cannot form arrays); X(t) is expanded for every token slot t, and the statement it stands
// for is guarded by `if constexpr (T > t)`, so slots beyond the tile's T cost nothing.
#define POCKET_TILE_TOKENS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
// The same for every (panel, token) slot of a tile of up to 3 panels.
#define POCKET_TILE_SLOTS(X)                                                                                      \
  X(0, 0)                                                                                                         \
  X(0, 1)                                                                                                         \
  X(0, 2)                                                                                                         \
  X(0, 3)                                                                                                         \
  X(0, 4)                                                                                                         \
  X(0, 5)                                                                                                         \
  X(0, 6)                                                                                                         \
  X(0, 7) X(1, 0) X(1, 1) X(1, 2) X(1, 3) X(1, 4) X(1, 5) X(1, 6) X(1, 7) X(2, 0) X(2, 1) X(2, 2) X(2, 3) X(2, 4) \
      X(2, 5) X(2, 6) X(2, 7)
#endif  // POCKET_SIMD_GEMM_DETAIL_ONCE

POCKET_BEFORE_NAMESPACE();  // HWY_BEFORE_NAMESPACE() with avx512vnni on AVX3_DL (simd-inl.h)
namespace pocket::simd::HWY_NAMESPACE {

using namespace gemm_detail;  // NOLINT

#if HWY_TARGET == HWY_SCALAR
inline constexpr int64_t kP = 4;
#else
inline constexpr int64_t kP = kW / 4;
#endif

int64_t PanelRows() { return kP; }

#if HWY_TARGET == HWY_SCALAR

int64_t TilePanels() { return 1; }

void GemmRows(const WeightView& w, int64_t r0, int64_t r1, const ActivationView& x, const uint8_t*, uint8_t*, float* y,
              int64_t y_stride) {
  if (w.panels) return stored_panels::rows_fallback(w, r0, r1, x, y, y_stride);
  matvec_rows(w, r0, r1, x, y, y_stride);
}

#else

// ---- packing: one row's unit as U unsigned quants, its scale and min ----

// Quant offsets of the stored (unsigned) form; Q8_0 is biased only where vpdpbusd needs it.
inline constexpr bool kBiasQ8 = POCKET_SIMD_VNNI;

int32_t QuantOffset(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0:
      return 8;
    case GgmlType::Q5_0:
      return 16;
    case GgmlType::Q8_0:
      return kBiasQ8 ? 128 : 0;
    case GgmlType::Q3_K:
      return 4;
    case GgmlType::Q6_K:
      return 32;
    default:
      return 0;
  }
}

// Decodes block `blk` of a row (32 elements for legacy formats, a 256-element super-block for K
// formats) into stored quants q[], and one scale / min per unit (1 unit, or 8 / 16 for K formats).
// Plain loops over whole blocks, which the compiler vectorizes. Returns the elements decoded.
int DecodeBlock(GgmlType t, const uint8_t* row, int64_t blk, uint8_t* q, float* scale, float* min) {
  switch (t) {
    case GgmlType::Q4_0:
    case GgmlType::Q4_1: {
      const bool one = t == GgmlType::Q4_1;
      const uint8_t* b = row + static_cast<size_t>(blk) * (one ? sizeof(BlockQ4_1) : sizeof(BlockQ4_0));
      const uint8_t* qs = b + (one ? 4 : 2);
      for (int j = 0; j < 16; ++j) q[j] = qs[j] & 0xF;
      for (int j = 0; j < 16; ++j) q[j + 16] = static_cast<uint8_t>(qs[j] >> 4);
      scale[0] = LoadF16(b);
      min[0] = one ? LoadF16(b + 2) : 0.0f;
      return 32;
    }
    case GgmlType::Q5_0:
    case GgmlType::Q5_1: {
      const bool one = t == GgmlType::Q5_1;
      const uint8_t* b = row + static_cast<size_t>(blk) * (one ? sizeof(BlockQ5_1) : sizeof(BlockQ5_0));
      const uint8_t* qs = b + (one ? 8 : 6);
      const uint32_t qh = LoadU32(b + (one ? 4 : 2));
      for (int j = 0; j < 16; ++j) q[j] = static_cast<uint8_t>((qs[j] & 0xF) | (((qh >> j) & 1) << 4));
      for (int j = 0; j < 16; ++j) q[j + 16] = static_cast<uint8_t>((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
      scale[0] = LoadF16(b);
      min[0] = one ? LoadF16(b + 2) : 0.0f;
      return 32;
    }
    case GgmlType::Q8_0: {
      const auto& b = reinterpret_cast<const BlockQ8_0*>(row)[blk];
      for (int j = 0; j < 32; ++j) q[j] = static_cast<uint8_t>(b.qs[j] + (kBiasQ8 ? 128 : 0));
      scale[0] = fp16_to_fp32(b.d);
      min[0] = 0.0f;
      return 32;
    }
    case GgmlType::Q2_K: {
      const auto& b = reinterpret_cast<const BlockQ2_K*>(row)[blk];
      for (int h = 0; h < 2; ++h) {
        for (int k = 0; k < 4; ++k) {
          for (int l = 0; l < 32; ++l) q[128 * h + 32 * k + l] = (b.qs[32 * h + l] >> (2 * k)) & 3;
        }
      }
      const float d = fp16_to_fp32(b.d), dmin = fp16_to_fp32(b.dmin);
      for (int j = 0; j < 16; ++j) {
        scale[j] = d * static_cast<float>(b.scales[j] & 0xF);
        min[j] = dmin * static_cast<float>(b.scales[j] >> 4);
      }
      return 256;
    }
    case GgmlType::Q3_K: {
      const auto& b = reinterpret_cast<const BlockQ3_K*>(row)[blk];
      for (int h = 0; h < 2; ++h) {
        for (int k = 0; k < 4; ++k) {
          const int p = 4 * h + k;  // 32-element piece
          for (int l = 0; l < 32; ++l) {
            q[32 * p + l] = static_cast<uint8_t>(((b.qs[32 * h + l] >> (2 * k)) & 3) | (((b.hmask[l] >> p) & 1) << 2));
          }
        }
      }
      const float d = fp16_to_fp32(b.d);
      for (int j = 0; j < 16; ++j) scale[j] = d * static_cast<float>(q3_k_scale(b.scales, j) - 32), min[j] = 0.0f;
      return 256;
    }
    case GgmlType::Q4_K:
    case GgmlType::Q5_K: {
      const bool five = t == GgmlType::Q5_K;
      const uint8_t* b = row + static_cast<size_t>(blk) * (five ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K));
      const uint8_t* scales = b + 4;
      const uint8_t* qh = b + 4 + kKScaleSize;
      const uint8_t* qs = five ? qh + 32 : qh;
      for (int c = 0; c < 4; ++c) {
        for (int l = 0; l < 32; ++l) q[64 * c + l] = qs[32 * c + l] & 0xF;
        for (int l = 0; l < 32; ++l) q[64 * c + 32 + l] = static_cast<uint8_t>(qs[32 * c + l] >> 4);
        if (five) {
          for (int l = 0; l < 32; ++l) q[64 * c + l] |= static_cast<uint8_t>(((qh[l] >> (2 * c)) & 1) << 4);
          for (int l = 0; l < 32; ++l) q[64 * c + 32 + l] |= static_cast<uint8_t>(((qh[l] >> (2 * c + 1)) & 1) << 4);
        }
      }
      const float d = LoadF16(b), dmin = LoadF16(b + 2);
      for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        get_scale_min_k4(j, scales, &sc, &m);
        scale[j] = d * static_cast<float>(sc);
        min[j] = dmin * static_cast<float>(m);
      }
      return 256;
    }
    case GgmlType::Q6_K: {
      const auto& b = reinterpret_cast<const BlockQ6_K*>(row)[blk];
      for (int h = 0; h < 2; ++h) {
        const uint8_t* ql = b.ql + 64 * h;
        const uint8_t* qh = b.qh + 32 * h;
        uint8_t* o = q + 128 * h;
        for (int l = 0; l < 32; ++l) o[l] = static_cast<uint8_t>((ql[l] & 0xF) | ((qh[l] & 3) << 4));
        for (int l = 0; l < 32; ++l) o[32 + l] = static_cast<uint8_t>((ql[32 + l] & 0xF) | (((qh[l] >> 2) & 3) << 4));
        for (int l = 0; l < 32; ++l) o[64 + l] = static_cast<uint8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
        for (int l = 0; l < 32; ++l) o[96 + l] = static_cast<uint8_t>((ql[32 + l] >> 4) | (((qh[l] >> 6) & 3) << 4));
      }
      const float d = fp16_to_fp32(b.d);
      for (int j = 0; j < 16; ++j) scale[j] = d * static_cast<float>(b.scales[j]), min[j] = 0.0f;
      return 256;
    }
    default:
      return 0;
  }
}

size_t UnitStride(GgmlType t) {
  return static_cast<size_t>(unit_size(t) * kP) + sizeof(float) * kP * (has_min(t) ? 2 : 1);
}

// Legacy formats: 16-byte chunks of all P rows are loaded side by side and transposed into the
// panel's [group][row] dword order with a few shuffles per block.
struct LegacyPack {
  size_t bytes, qs, qh;  // block size, offsets of the quants and of the 5th bits (0: none)
  bool min, byte;        // has an f16 min at offset 2; 8-bit quants (Q8_0)
};

LegacyPack LegacyPackOf(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0:
      return {sizeof(BlockQ4_0), 2, 0, false, false};
    case GgmlType::Q4_1:
      return {sizeof(BlockQ4_1), 4, 0, true, false};
    case GgmlType::Q5_0:
      return {sizeof(BlockQ5_0), 6, 2, false, false};
    case GgmlType::Q5_1:
      return {sizeof(BlockQ5_1), 8, 4, true, false};
    default:
      return {sizeof(BlockQ8_0), 2, 0, false, true};
  }
}

bool IsLegacy(GgmlType t) {
  return t == GgmlType::Q4_0 || t == GgmlType::Q4_1 || t == GgmlType::Q5_0 || t == GgmlType::Q5_1 ||
         t == GgmlType::Q8_0;
}

// Group j (quant bytes 4j..4j+3 of every row) of a Q8_0 block, biased for vpdpbusd where needed.
HWY_INLINE void StoreGroupQ8(VU8 v, int j, uint8_t* pu) {
  const DU8 du8;
  if constexpr (kBiasQ8) v = hn::Xor(v, hn::Set(du8, uint8_t{0x80}));
  hn::Store(v, du8, pu + j * 4 * kP);
}

// Group j of a nibble block from src (a transposed vector, shifted right by 4 for the high nibbles);
// with fifth bits (qh lane r = row r's qh word), bits 4j..4j+3 of qh become bit 4 of the quants.
HWY_INLINE void StoreGroupNibbles(VU8 src, int j, bool fifth, hn::Vec<DU32> qh, uint8_t* pu) {
  const DU8 du8;
  const DU32 du32;
  VU8 q = hn::And(src, hn::Set(du8, uint8_t{0x0F}));
  if (fifth) {
    // Bits 4j..4j+3 of qh, one per byte (spread by a multiply), moved to bit 4.
    const auto nib = hn::And(hn::ShiftRightSame(qh, 4 * j), hn::Set(du32, 0xFu));
    const auto spread = hn::And(hn::Mul(nib, hn::Set(du32, 0x00204081u)), hn::Set(du32, 0x01010101u));
    q = hn::Or(q, hn::BitCast(du8, hn::ShiftLeft<4>(spread)));
  }
  hn::Store(q, du8, pu + j * 4 * kP);
}

// The high nibbles of v moved down (the low nibbles are masked off by StoreGroupNibbles).
HWY_INLINE VU8 HighNibbles(VU8 v) {
  const DU32 du32;
  return hn::BitCast(DU8(), hn::ShiftRight<4>(hn::BitCast(du32, v)));
}

void PackPanelLegacy(const WeightView& w, int64_t r0, int64_t r1, uint8_t* panel) {
  const LegacyPack lp = LegacyPackOf(w.type);
  const size_t stride = UnitStride(w.type);
  const DU32 du32;
  const uint8_t* rows[kP];
  for (int64_t r = 0; r < kP; ++r) rows[r] = w.data + static_cast<size_t>(std::min(r0 + r, r1 - 1)) * w.row_bytes;
  for (int64_t b = 0; b < w.cols / 32; ++b) {
    const size_t off = static_cast<size_t>(b) * lp.bytes;
    uint8_t* pu = panel + static_cast<size_t>(b) * stride;
    // vj: dword j of every row's first 16 quant bytes (Q8_0: v4..v7 the second 16).
    VU8 v0, v1, v2, v3;
    TransposeRows16(LoadRows16(rows, 0, off + lp.qs), LoadRows16(rows, 1, off + lp.qs),
                    LoadRows16(rows, 2, off + lp.qs), LoadRows16(rows, 3, off + lp.qs), v0, v1, v2, v3);
    if (lp.byte) {
      const size_t qs2 = off + lp.qs + 16;
      VU8 v4, v5, v6, v7;
      TransposeRows16(LoadRows16(rows, 0, qs2), LoadRows16(rows, 1, qs2), LoadRows16(rows, 2, qs2),
                      LoadRows16(rows, 3, qs2), v4, v5, v6, v7);
      StoreGroupQ8(v0, 0, pu);
      StoreGroupQ8(v4, 4, pu);
      StoreGroupQ8(v1, 1, pu);
      StoreGroupQ8(v5, 5, pu);
      StoreGroupQ8(v2, 2, pu);
      StoreGroupQ8(v6, 6, pu);
      StoreGroupQ8(v3, 3, pu);
      StoreGroupQ8(v7, 7, pu);
    } else {
      const bool fifth = lp.qh != 0;
      hn::Vec<DU32> qh = hn::Zero(du32);
      if (fifth) {
        alignas(64) uint32_t words[kP];
        for (int64_t r = 0; r < kP; ++r) words[r] = LoadU32(rows[r] + off + lp.qh);
        qh = hn::Load(du32, words);
      }
      StoreGroupNibbles(v0, 0, fifth, qh, pu);
      StoreGroupNibbles(v1, 1, fifth, qh, pu);
      StoreGroupNibbles(v2, 2, fifth, qh, pu);
      StoreGroupNibbles(v3, 3, fifth, qh, pu);
      StoreGroupNibbles(HighNibbles(v0), 4, fifth, qh, pu);
      StoreGroupNibbles(HighNibbles(v1), 5, fifth, qh, pu);
      StoreGroupNibbles(HighNibbles(v2), 6, fifth, qh, pu);
      StoreGroupNibbles(HighNibbles(v3), 7, fifth, qh, pu);
    }
    float* f = reinterpret_cast<float*>(pu + 32 * kP);
    for (int64_t r = 0; r < kP; ++r) {
      f[r] = LoadF16(rows[r] + off);
      if (lp.min) f[kP + r] = LoadF16(rows[r] + off + 2);
    }
  }
}

void PackPanel(const WeightView& w, int64_t r0, int64_t r1, uint8_t* panel) {
  if (IsLegacy(w.type)) return PackPanelLegacy(w, r0, r1, panel);
  const int64_t U = unit_size(w.type);
  const size_t stride = UnitStride(w.type);
  const bool mins = has_min(w.type);
  alignas(64) uint8_t q[256];
  float scale[16], min[16];
  for (int64_t r = 0; r < kP; ++r) {
    const uint8_t* row = w.data + static_cast<size_t>(std::min(r0 + r, r1 - 1)) * w.row_bytes;
    int64_t u = 0;
    for (int64_t blk = 0; u * U < w.cols; ++blk) {
      const int n = DecodeBlock(w.type, row, blk, q, scale, min);
      for (int k = 0; k < n / U; ++k, ++u) {
        uint8_t* pu = panel + static_cast<size_t>(u) * stride;
        for (int64_t g = 0; g < U / 4; ++g) std::memcpy(pu + (g * kP + r) * 4, q + k * U + 4 * g, 4);
        float* f = reinterpret_cast<float*>(pu + U * kP);
        f[r] = scale[k];
        if (mins) f[kP + r] = min[k];
      }
    }
  }
}

// ---- tile kernel ----

enum class Combine { kQ4_0, kQ5_0, kQ8_0, kMin1, kK, kKMin };

Combine CombineOf(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0:
      return Combine::kQ4_0;
    case GgmlType::Q5_0:
      return Combine::kQ5_0;
    case GgmlType::Q8_0:
      return Combine::kQ8_0;
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
      return Combine::kMin1;
    case GgmlType::Q3_K:
    case GgmlType::Q6_K:
      return Combine::kK;
    default:
      return Combine::kKMin;
  }
}

// Where the activation quants sit in a token row: blocks of block_elems quants at qs in each
// block_bytes-sized block. The tile walks it unit by unit without dividing.
struct XLayout {
  size_t block_bytes;   // activation block size
  int64_t block_elems;  // 32 or 256
  size_t qs;            // offset of the quants in the block
};

XLayout XLayoutOf(GgmlType t) {
  switch (vec_dot_type(t)) {
    case GgmlType::Q8_0:
      return {sizeof(BlockQ8_0), 32, 2};
    case GgmlType::Q8_1:
      return {sizeof(BlockQ8_1), 32, 4};
    default:
      return {sizeof(BlockQ8_K), 256, 4};
  }
}

// iacc += the P rows' 4 weight quants of one group (wv) times one token's 4 activation quants,
// broadcast to every lane (xv).
template <bool kSignedW>
HWY_INLINE VI32 TileDot(VI32 iacc, VU8 wv, VI8 xv) {
  if constexpr (kSignedW) {
    return DotI8I8(iacc, hn::BitCast(DI8(), wv), xv);
  } else {
    return DotU8I8(iacc, wv, xv);
  }
}

HWY_INLINE VI8 BroadcastQuads(const uint8_t* x) {
  return hn::BitCast(DI8(), hn::Set(DI32(), static_cast<int32_t>(LoadU32(x))));
}

// acc plus one unit's term of one token, in the reference's float expression: iacc holds the
// unit's exact integer sums (lane = row; the offset correction was its starting value), f the
// unit's P scales (dx) and P mins.
template <Combine kC>
HWY_INLINE VF32 TileTerm(VF32 acc, VI32 iacc, VF32 dx, const float* f, const TokenUnit& tu) {
  const DF32 df;
  const VF32 sumi = hn::ConvertTo(df, iacc);
  const VF32 dy = hn::Set(df, tu.dy);
  if constexpr (kC == Combine::kQ4_0) {
    return hn::Add(acc, hn::Mul(hn::Mul(sumi, dx), dy));
  } else if constexpr (kC == Combine::kQ5_0) {
    return hn::Add(acc, hn::Mul(hn::Mul(dx, dy), sumi));
  } else if constexpr (kC == Combine::kQ8_0) {
    return hn::Add(acc, hn::Mul(sumi, hn::Mul(dx, dy)));
  } else if constexpr (kC == Combine::kMin1) {
    const VF32 mx = hn::Load(df, f + kP);
    return hn::Add(acc, hn::Add(hn::Mul(hn::Mul(dx, dy), sumi), hn::Mul(mx, hn::Set(df, tu.ms))));
  } else if constexpr (kC == Combine::kK) {
    return hn::MulAdd(sumi, hn::Mul(dx, dy), acc);
  } else {
    acc = hn::MulAdd(sumi, hn::Mul(dx, dy), acc);
    return hn::NegMulAdd(hn::Load(df, f + kP), hn::Set(df, tu.ms), acc);
  }
}

// The first n_valid lanes of acc to y.
HWY_INLINE void StorePartial(VF32 acc, float* y, int64_t n_valid) {
  alignas(64) float out[kP];
  hn::Store(acc, DF32(), out);
  std::memcpy(y, out, sizeof(float) * static_cast<size_t>(n_valid));
}

// Tile shape: NP panels (NP·P rows) times T tokens, one accumulator per (panel, token). Every
// vpdpbusd needs one of two multiply ports, which the float combine's multiplies also use; more
// panels per broadcast and fewer loads per product keep those ports fed. With 32 vector registers
// 3 panels × 4 tokens (12 integer + 12 float accumulators) measured 822 GFLOP/s per core on Zen 5
// vs 680 for 1 × 8 (standalone replica, data in L2); with 16 registers one panel × 4 tokens fits.
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
inline constexpr int kTilePanels = 3;
inline constexpr int kTileTokens = 4;
#else
inline constexpr int kTilePanels = 1;
inline constexpr int kTileTokens = kW == 64 ? 8 : 4;
#endif

int64_t TilePanels() { return kTilePanels; }

// Where a tile reads its weights: panels packed into scratch per call (kPacked: U/4 groups of P rows
// × 4 unsigned quants, then P f32 scales and mins), or panels stored at load (see StorePanels):
// Q4_0 nibbles still packed two per byte, Q8_0 raw int8, f16 scales after all units' quants.
enum class Source { kPacked, kStoredQ4_0, kStoredQ8_0 };

// Unit u's weights of one panel: groups j and j + U/8 (j < U/8) as unsigned quants (or signed Q8_0
// where kSignedW), and the P scales.
template <int U, Source kS>
struct PanelUnit {
  const uint8_t* q;       // the unit's quants
  const uint8_t* scales;  // kPacked: f32 scales then mins; stored: f16 scales

  HWY_INLINE void Groups(int j, VU8& lo, VU8& hi) const {
    const DU8 du8;
    if constexpr (kS == Source::kPacked) {
      lo = hn::Load(du8, q + j * 4 * kP);
      hi = hn::Load(du8, q + (j + U / 8) * 4 * kP);
    } else if constexpr (kS == Source::kStoredQ4_0) {
      const VU8 v = hn::Load(du8, q + j * 4 * kP);  // low nibbles: quants 4j.., high: 16 + 4j..
      lo = hn::And(v, hn::Set(du8, uint8_t{0x0F}));
      hi = hn::And(hn::BitCast(du8, hn::ShiftRight<4>(hn::BitCast(DU16(), v))), hn::Set(du8, uint8_t{0x0F}));
    } else {
      lo = hn::Load(du8, q + j * 4 * kP);
      hi = hn::Load(du8, q + (j + U / 8) * 4 * kP);
      if constexpr (kBiasQ8) {
        lo = hn::Xor(lo, hn::Set(du8, uint8_t{0x80}));
        hi = hn::Xor(hi, hn::Set(du8, uint8_t{0x80}));
      }
    }
  }
  HWY_INLINE VF32 Scales() const {
    if constexpr (kS == Source::kPacked) {
      return hn::Load(DF32(), reinterpret_cast<const float*>(scales));
    } else {
      const hn::Rebind<hwy::float16_t, DF32> dh;
      return hn::PromoteTo(DF32(), hn::Load(dh, reinterpret_cast<const hwy::float16_t*>(scales)));
    }
  }
  const float* Mins() const { return reinterpret_cast<const float*>(scales); }  // kPacked: f + kP
};

// Where panel p's unit u lives: packed panels interleave quants and scales per unit (unit_stride
// apart); stored panels keep all units' quants (unit_stride each) before all their scales.
template <int U, Source kS>
HWY_INLINE PanelUnit<U, kS> UnitOf(const uint8_t* panel, size_t unit_stride, int64_t n_units, int64_t u) {
  const uint8_t* q = panel + static_cast<size_t>(u) * unit_stride;
  if constexpr (kS == Source::kPacked) {
    return {q, q + U * kP};
  } else {
    return {q,
            panel + static_cast<size_t>(n_units) * unit_stride + static_cast<size_t>(u) * stored_panels::kScaleBytes};
  }
}

template <int U, Combine kC, bool kSignedW, Source kS, int NP, int T>
void Tile(const uint8_t* panel, size_t panel_stride, size_t unit_stride, int64_t n_units, const XLayout& xl,
          const uint8_t* const* xrows, const TokenUnit* const* tok, float* const* yrows, int64_t r_off,
          int64_t n_valid_last) {
  static_assert(1 <= NP && NP <= 3 && 1 <= T && T <= 8, "accumulators: acc<panel>_<token>, 3 x 8");
  const DI32 di;
  const DF32 df;
#define POCKET_TILE_DECL(p, t) VF32 acc##p##_##t = hn::Zero(df);
  POCKET_TILE_SLOTS(POCKET_TILE_DECL)
#undef POCKET_TILE_DECL
  size_t xo = xl.qs;     // offset of unit u's first activation quant
  int64_t in_block = 0;  // elements of the current activation block already passed
  for (int64_t u = 0; u < n_units; ++u) {
    const PanelUnit<U, kS> pu0 = UnitOf<U, kS>(panel, unit_stride, n_units, u);
    const PanelUnit<U, kS> pu1 = UnitOf<U, kS>(panel + panel_stride, unit_stride, n_units, u);
    const PanelUnit<U, kS> pu2 = UnitOf<U, kS>(panel + 2 * panel_stride, unit_stride, n_units, u);
    // Integer sums start at -(offset · Σ activation quants), so they end as the exact block sums.
#define POCKET_TILE_INIT(p, t)       \
  VI32 iacc##p##_##t = hn::Zero(di); \
  if constexpr (NP > (p) && T > (t)) iacc##p##_##t = hn::Set(di, -tok[t][u].corr);
    POCKET_TILE_SLOTS(POCKET_TILE_INIT)
#undef POCKET_TILE_INIT
    for (int j = 0; j < U / 8; ++j) {
      VU8 lo0, hi0, lo1, hi1, lo2, hi2;
      pu0.Groups(j, lo0, hi0);
      if constexpr (NP > 1) pu1.Groups(j, lo1, hi1);
      if constexpr (NP > 2) pu2.Groups(j, lo2, hi2);
      const size_t xlo = xo + static_cast<size_t>(4 * j), xhi = xlo + U / 2;
#define POCKET_TILE_DOT(t)                                                    \
  if constexpr (T > (t)) {                                                    \
    const VI8 xl_ = BroadcastQuads(xrows[t] + xlo);                           \
    const VI8 xh_ = BroadcastQuads(xrows[t] + xhi);                           \
    iacc0_##t = TileDot<kSignedW>(iacc0_##t, lo0, xl_);                       \
    iacc0_##t = TileDot<kSignedW>(iacc0_##t, hi0, xh_);                       \
    if constexpr (NP > 1) iacc1_##t = TileDot<kSignedW>(iacc1_##t, lo1, xl_); \
    if constexpr (NP > 1) iacc1_##t = TileDot<kSignedW>(iacc1_##t, hi1, xh_); \
    if constexpr (NP > 2) iacc2_##t = TileDot<kSignedW>(iacc2_##t, lo2, xl_); \
    if constexpr (NP > 2) iacc2_##t = TileDot<kSignedW>(iacc2_##t, hi2, xh_); \
  }
      POCKET_TILE_TOKENS(POCKET_TILE_DOT)
#undef POCKET_TILE_DOT
    }
    const VF32 dx0 = pu0.Scales();
    const VF32 dx1 = NP > 1 ? pu1.Scales() : dx0;
    const VF32 dx2 = NP > 2 ? pu2.Scales() : dx0;
    const float* f0 = pu0.Mins();
    const float* f1 = pu1.Mins();
    const float* f2 = pu2.Mins();
#define POCKET_TILE_TERM(p, t) \
  if constexpr (NP > (p) && T > (t)) acc##p##_##t = TileTerm<kC>(acc##p##_##t, iacc##p##_##t, dx##p, f##p, tok[t][u]);
    POCKET_TILE_SLOTS(POCKET_TILE_TERM)
#undef POCKET_TILE_TERM
    xo += U;
    in_block += U;
    if (in_block == xl.block_elems) {
      in_block = 0;
      xo += xl.block_bytes - static_cast<size_t>(xl.block_elems);
    }
  }
  // Panel p covers rows r_off + p·P of every token's output; only the last may be partial.
#define POCKET_TILE_STORE(p, t)                     \
  if constexpr (NP > (p) && T > (t)) {              \
    float* yp = yrows[t] + r_off + (p)*kP;          \
    if ((p) < NP - 1 || n_valid_last == kP) {       \
      hn::StoreU(acc##p##_##t, df, yp);             \
    } else {                                        \
      StorePartial(acc##p##_##t, yp, n_valid_last); \
    }                                               \
  }
  POCKET_TILE_SLOTS(POCKET_TILE_STORE)
#undef POCKET_TILE_STORE
}

// NP panels (rows r0 .. r0 + NP·P, the last holding n_valid_last rows) times every token.
template <int U, Combine kC, bool kSignedW, Source kS, int NP>
void PanelsTimesTokens(const uint8_t* panel, size_t panel_stride, const WeightView& w, int64_t r0, int64_t n_valid_last,
                       const ActivationView& x, const uint8_t* token_aux, float* y, int64_t y_stride) {
  const XLayout xl = XLayoutOf(w.type);
  const int64_t n_units = w.cols / U;
  const size_t unit_stride = kS == Source::kPacked ? UnitStride(w.type) : stored_panels::quant_bytes(w.type);
  const size_t aux_stride = token_aux_bytes(w.type, w.cols);
  for (int64_t t0 = 0; t0 < x.n_tokens;) {
    const int64_t left = x.n_tokens - t0;
    const int T = left >= kTileTokens ? kTileTokens : left >= 4 ? 4 : left >= 2 ? 2 : 1;
    const uint8_t* xrows[kTileTokens];
    const TokenUnit* tok[kTileTokens];
    float* yrows[kTileTokens];
    for (int t = 0; t < T; ++t) {
      xrows[t] = x.xq + static_cast<size_t>(t0 + t) * x.xq_stride;
      tok[t] = reinterpret_cast<const TokenUnit*>(token_aux + static_cast<size_t>(t0 + t) * aux_stride);
      yrows[t] = y + (t0 + t) * y_stride;
    }
    const auto tile = [&](auto tokens) {
      Tile<U, kC, kSignedW, kS, NP, decltype(tokens)::value>(panel, panel_stride, unit_stride, n_units, xl, xrows, tok,
                                                             yrows, r0, n_valid_last);
    };
    if (T == kTileTokens) {
      tile(std::integral_constant<int, kTileTokens>{});
    } else if (T == 4) {
      tile(std::integral_constant<int, 4>{});
    } else if (T == 2) {
      tile(std::integral_constant<int, 2>{});
    } else {
      tile(std::integral_constant<int, 1>{});
    }
    t0 += T;
  }
}

template <int U, Combine kC, bool kSignedW, Source kS>
void PanelTimesTokens(const uint8_t* panel, size_t panel_stride, int np, const WeightView& w, int64_t r0,
                      int64_t n_valid_last, const ActivationView& x, const uint8_t* token_aux, float* y,
                      int64_t y_stride) {
  if constexpr (kTilePanels >= 3) {
    if (np == 3) {
      return PanelsTimesTokens<U, kC, kSignedW, kS, 3>(panel, panel_stride, w, r0, n_valid_last, x, token_aux, y,
                                                       y_stride);
    }
  }
  if constexpr (kTilePanels >= 2) {
    if (np == 2) {
      return PanelsTimesTokens<U, kC, kSignedW, kS, 2>(panel, panel_stride, w, r0, n_valid_last, x, token_aux, y,
                                                       y_stride);
    }
  }
  PanelsTimesTokens<U, kC, kSignedW, kS, 1>(panel, panel_stride, w, r0, n_valid_last, x, token_aux, y, y_stride);
}

using PanelFn = void (*)(const uint8_t*, size_t, int, const WeightView&, int64_t, int64_t, const ActivationView&,
                         const uint8_t*, float*, int64_t);

// From this many tokens on, stored Q4_0 panels are unpacked into the scratch before the tiles run.
inline constexpr int64_t kUnpackTokens = 16;

// One stored Q4_0 panel → the packed-panel layout (unsigned quants per group, f32 scales).
void UnpackStoredQ4_0(const uint8_t* src, int64_t n_units, uint8_t* dst) {
  const DU8 du8;
  const DF32 df;
  const hn::Rebind<hwy::float16_t, DF32> dh;
  const uint8_t* scales = src + static_cast<size_t>(n_units) * stored_panels::quant_bytes(GgmlType::Q4_0);
  const size_t stride = UnitStride(GgmlType::Q4_0);
  for (int64_t u = 0; u < n_units; ++u) {
    const uint8_t* q = src + static_cast<size_t>(u) * stored_panels::quant_bytes(GgmlType::Q4_0);
    uint8_t* pu = dst + static_cast<size_t>(u) * stride;
    for (int j = 0; j < 4; ++j) {
      const VU8 v = hn::Load(du8, q + j * 4 * kP);
      hn::Store(hn::And(v, hn::Set(du8, uint8_t{0x0F})), du8, pu + j * 4 * kP);
      hn::Store(hn::And(hn::BitCast(du8, hn::ShiftRight<4>(hn::BitCast(DU16(), v))), hn::Set(du8, uint8_t{0x0F})), du8,
                pu + (j + 4) * 4 * kP);
    }
    const auto* h =
        reinterpret_cast<const hwy::float16_t*>(scales + static_cast<size_t>(u) * stored_panels::kScaleBytes);
    hn::Store(hn::PromoteTo(df, hn::Load(dh, h)), df, reinterpret_cast<float*>(pu + 32 * kP));
  }
}

// Tiles over panels stored at load (Q4_0 / Q8_0 on the 16-row targets); nullptr elsewhere.
PanelFn StoredFnOf(GgmlType t) {
  if constexpr (kP == stored_panels::kRows) {
    if (t == GgmlType::Q4_0) return PanelTimesTokens<32, Combine::kQ4_0, false, Source::kStoredQ4_0>;
    if (t == GgmlType::Q8_0) return PanelTimesTokens<32, Combine::kQ8_0, !kBiasQ8, Source::kStoredQ8_0>;
  }
  return nullptr;
}

PanelFn PanelFnOf(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0:
      return PanelTimesTokens<32, Combine::kQ4_0, false, Source::kPacked>;
    case GgmlType::Q5_0:
      return PanelTimesTokens<32, Combine::kQ5_0, false, Source::kPacked>;
    case GgmlType::Q8_0:
      return PanelTimesTokens<32, Combine::kQ8_0, !kBiasQ8, Source::kPacked>;
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
      return PanelTimesTokens<32, Combine::kMin1, false, Source::kPacked>;
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
      return PanelTimesTokens<32, Combine::kKMin, false, Source::kPacked>;
    case GgmlType::Q2_K:
      return PanelTimesTokens<16, Combine::kKMin, false, Source::kPacked>;
    case GgmlType::Q3_K:
    case GgmlType::Q6_K:
      return PanelTimesTokens<16, Combine::kK, false, Source::kPacked>;
    default:
      return nullptr;
  }
}

// ---- F32 / F16 / BF16 weights: f32 panels [column][P rows], FMA tiles over f32 activations ----

void PackPanelFloat(const WeightView& w, int64_t r0, int64_t r1, float* panel) {
  for (int64_t r = 0; r < kP; ++r) {
    const uint8_t* row = w.data + static_cast<size_t>(std::min(r0 + r, r1 - 1)) * w.row_bytes;
    for (int64_t k = 0; k < w.cols; ++k) {
      float v;
      if (w.type == GgmlType::F32) {
        std::memcpy(&v, row + 4 * k, 4);
      } else {
        uint16_t h;
        std::memcpy(&h, row + 2 * k, 2);
        v = w.type == GgmlType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
      }
      panel[k * kP + r] = v;
    }
  }
}

template <int T>
void TileFloat(const float* panel, int64_t cols, const float* const* xs, float* const* yrows, int64_t n_valid) {
  static_assert(1 <= T && T <= 8, "one accumulator per token: acc0..acc7");
  const DF32 df;
  VF32 acc0 = hn::Zero(df), acc1 = acc0, acc2 = acc0, acc3 = acc0, acc4 = acc0, acc5 = acc0, acc6 = acc0, acc7 = acc0;
  for (int64_t k = 0; k < cols; ++k) {
    const VF32 wv = hn::Load(df, panel + k * kP);
#define POCKET_TILE_FMA(t) \
  if constexpr (T > (t)) acc##t = hn::MulAdd(wv, hn::Set(df, xs[t][k]), acc##t);
    POCKET_TILE_TOKENS(POCKET_TILE_FMA)
#undef POCKET_TILE_FMA
  }
#define POCKET_TILE_STORE(t) \
  if constexpr (T > (t)) StorePartial(acc##t, yrows[t], n_valid);
  POCKET_TILE_TOKENS(POCKET_TILE_STORE)
#undef POCKET_TILE_STORE
}

// token_aux holds each token's activations as f32 (prepare_tokens).
void PanelTimesTokensFloat(const float* panel, const WeightView& w, int64_t r0, int64_t n_valid,
                           const ActivationView& x, const uint8_t* token_aux, float* y, int64_t y_stride) {
  const size_t aux_stride = token_aux_bytes(w.type, w.cols);
  for (int64_t t0 = 0; t0 < x.n_tokens;) {
    const int64_t left = x.n_tokens - t0;
    const int T = left >= kTileTokens ? kTileTokens : left >= 4 ? 4 : left >= 2 ? 2 : 1;
    const float* xs[kTileTokens];
    float* yrows[kTileTokens];
    for (int t = 0; t < T; ++t) {
      xs[t] = reinterpret_cast<const float*>(token_aux + static_cast<size_t>(t0 + t) * aux_stride);
      yrows[t] = y + (t0 + t) * y_stride + r0;
    }
    if (T == kTileTokens) {
      TileFloat<kTileTokens>(panel, w.cols, xs, yrows, n_valid);
    } else if (T == 4) {
      TileFloat<4>(panel, w.cols, xs, yrows, n_valid);
    } else if (T == 2) {
      TileFloat<2>(panel, w.cols, xs, yrows, n_valid);
    } else {
      TileFloat<1>(panel, w.cols, xs, yrows, n_valid);
    }
    t0 += T;
  }
}

void GemmRows(const WeightView& w, int64_t r0, int64_t r1, const ActivationView& x, const uint8_t* token_aux,
              uint8_t* panel, float* y, int64_t y_stride) {
  if (is_float(w.type)) {
    for (int64_t p0 = r0; p0 < r1; p0 += kP) {
      PackPanelFloat(w, p0, r1, reinterpret_cast<float*>(panel));
      PanelTimesTokensFloat(reinterpret_cast<const float*>(panel), w, p0, std::min<int64_t>(kP, r1 - p0), x, token_aux,
                            y, y_stride);
    }
    return;
  }
  const bool stored = w.panels;
  const PanelFn packed_fn = PanelFnOf(w.type);
  const PanelFn stored_fn = stored ? StoredFnOf(w.type) : nullptr;
  if (stored ? stored_fn == nullptr : packed_fn == nullptr) {
    return stored ? stored_panels::rows_fallback(w, r0, r1, x, y, y_stride) : matvec_rows(w, r0, r1, x, y, y_stride);
  }
  // Groups of up to kTilePanels panels multiplied together. Stored panels are read in place (each
  // one contiguous stream), except that with many tokens Q4_0's are unpacked into the scratch once
  // (in place, the tile pays a shift and two masks per pair of groups for every token tile). Other
  // weights are packed from their rows into the scratch, the next group's rows prefetched meanwhile.
  const size_t packed_stride = UnitStride(w.type) * static_cast<size_t>(w.cols / unit_size(w.type));
  const size_t stored_stride = stored ? stored_panels::panel_stride(w.type, w.cols) : 0;
  const bool in_place = stored && !(w.type == GgmlType::Q4_0 && panel != nullptr && x.n_tokens >= kUnpackTokens);
  const int64_t group_rows = kTilePanels * kP;
  for (int64_t g0 = r0; g0 < r1; g0 += group_rows) {
    const int64_t g1 = std::min(r1, g0 + group_rows);
    const int np = static_cast<int>((g1 - g0 + kP - 1) / kP);
    const int64_t n_valid_last = g1 - (g0 + static_cast<int64_t>(np - 1) * kP);
    const uint8_t* src = stored ? w.data + static_cast<size_t>(g0 / kP) * stored_stride : nullptr;
    if (in_place) {
      stored_fn(src, stored_stride, np, w, g0, n_valid_last, x, token_aux, y, y_stride);
      continue;
    }
    for (int p = 0; p < np; ++p) {
      uint8_t* dst = panel + static_cast<size_t>(p) * packed_stride;
      if (stored) {
        UnpackStoredQ4_0(src + static_cast<size_t>(p) * stored_stride, w.cols / 32, dst);
      } else {
        PackPanel(w, g0 + p * kP, r1, dst);
      }
    }
    for (int64_t r = g1; !stored && r < std::min(r1, g1 + group_rows); ++r) {
      const uint8_t* row = w.data + static_cast<size_t>(r) * w.row_bytes;
      for (size_t off = 0; off < w.row_bytes; off += 64) hwy::Prefetch(row + off);
    }
    packed_fn(panel, packed_stride, np, w, g0, n_valid_last, x, token_aux, y, y_stride);
  }
}

#endif  // HWY_TARGET == HWY_SCALAR

}  // namespace pocket::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace pocket::simd {

HWY_EXPORT(PanelRows);
HWY_EXPORT(TilePanels);
HWY_EXPORT(GemmRows);

using namespace gemm_detail;  // NOLINT

int64_t panel_rows() { return HWY_DYNAMIC_DISPATCH(PanelRows)(); }

size_t panel_bytes(GgmlType w, int64_t cols) {
  const int64_t U = unit_size(w);
  const int64_t p = panel_rows();
  if (is_float(w)) return static_cast<size_t>(cols * p) * sizeof(float);
  const int64_t panels = HWY_DYNAMIC_DISPATCH(TilePanels)();
  return static_cast<size_t>(panels * (cols / U) * (U * p + 4 * p * (has_min(w) ? 2 : 1)));
}

size_t token_aux_bytes(GgmlType w, int64_t cols) {
  if (is_float(w)) return static_cast<size_t>(cols) * sizeof(float);
  return static_cast<size_t>(cols / unit_size(w)) * sizeof(TokenUnit);
}

bool gemm_supports(GgmlType) { return true; }

// Per token and unit: dy, offset * Σ activation quants, and the min partner (see TokenUnits).
void prepare_tokens(GgmlType w, const ActivationView& x, int64_t cols, uint8_t* token_aux) {
  if (is_float(w)) {
    // The float tiles read activations as f32 (exact: they were rounded to the weight type).
    for (int64_t t = 0; t < x.n_tokens; ++t) {
      dequantize_row(vec_dot_type(w), x.xq + static_cast<size_t>(t) * x.xq_stride,
                     reinterpret_cast<float*>(token_aux + static_cast<size_t>(t) * token_aux_bytes(w, cols)), cols);
    }
    return;
  }
  const int64_t U = unit_size(w);
  const int64_t n_units = cols / U;
  const size_t aux_stride = token_aux_bytes(w, cols);
  int32_t offset = 0;
  switch (w) {
    case GgmlType::Q4_0:
      offset = 8;
      break;
    case GgmlType::Q5_0:
      offset = 16;
      break;
    case GgmlType::Q8_0:
      // Only the VNNI tile biases Q8_0 quants; other targets' tiles ignore the correction.
      offset = 128;
      break;
    case GgmlType::Q3_K:
      offset = 4;
      break;
    case GgmlType::Q6_K:
      offset = 32;
      break;
    default:
      break;
  }
  if (w == GgmlType::Q8_0 && dispatched_target() != HWY_AVX3_DL) offset = 0;
  for (int64_t t = 0; t < x.n_tokens; ++t) {
    const uint8_t* xr = x.xq + static_cast<size_t>(t) * x.xq_stride;
    uint8_t* aux = token_aux + static_cast<size_t>(t) * aux_stride;
    auto* tu = reinterpret_cast<TokenUnit*>(aux);
    const GgmlType xt = vec_dot_type(w);
    for (int64_t u = 0; u < n_units; ++u) {
      if (xt == GgmlType::Q8_K) {
        const auto& b = reinterpret_cast<const BlockQ8_K*>(xr)[u * U / kQK_K];
        const int64_t j = (u * U % kQK_K) / 16;
        const int32_t bsum = U == 16 ? b.bsums[j] : b.bsums[j] + b.bsums[j + 1];
        tu[u] = {b.d, offset * bsum, b.d * static_cast<float>(bsum)};
      } else {
        const bool one = xt == GgmlType::Q8_1;
        const uint8_t* blk = xr + static_cast<size_t>(u) * (one ? sizeof(BlockQ8_1) : sizeof(BlockQ8_0));
        const auto* qs = reinterpret_cast<const int8_t*>(blk + (one ? 4 : 2));
        int32_t s = 0;
        for (int j = 0; j < 32; ++j) s += qs[j];
        tu[u] = {fp16_to_fp32(static_cast<uint16_t>(blk[0] | (blk[1] << 8))), offset * s,
                 one ? fp16_to_fp32(static_cast<uint16_t>(blk[2] | (blk[3] << 8))) : 0.0f};
      }
    }
  }
}

void gemm_rows(const WeightView& w, int64_t r0, int64_t r1, const ActivationView& x, const uint8_t* token_aux,
               uint8_t* panel_scratch, float* y, int64_t y_stride) {
  HWY_DYNAMIC_DISPATCH(GemmRows)(w, r0, r1, x, token_aux, panel_scratch, y, y_stride);
}

}  // namespace pocket::simd
#endif  // HWY_ONCE
