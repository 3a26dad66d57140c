// Byte layouts of ggml's quantized blocks (ggml/src/ggml-common.h), reproduced field for field so a
// tensor's bytes from a GGUF file can be read in place through these structs.
//
// Every struct below has a natural layout without padding: half-precision fields are stored as raw
// uint16_t bits (alignment 2) and all other fields are byte arrays, except block_q8_K whose float
// scale gives it alignment 4 and a size (292) that is a multiple of 4. The static_asserts pin the
// sizes to ggml's, so a wrong field order or count fails to compile.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pocket {

// Elements per block of the "legacy" formats and of the 256-element super-blocks of the K formats.
inline constexpr int kQK4_0 = 32;
inline constexpr int kQK4_1 = 32;
inline constexpr int kQK5_0 = 32;
inline constexpr int kQK5_1 = 32;
inline constexpr int kQK8_0 = 32;
inline constexpr int kQK8_1 = 32;
inline constexpr int kQK_K = 256;
inline constexpr int kKScaleSize = 12;  // packed 6-bit scales+mins of q4_K / q5_K

// ---------------------------------------------------------------------------------------------
// Legacy formats: 32 elements per block, one f16 scale (and for *_1 one f16 min).
// ---------------------------------------------------------------------------------------------

// q4_0, 18 bytes / 32 values: x = d * (q - 8), q in [0, 15].
// qs[j] holds element j in its low nibble and element j + 16 in its high nibble.
struct BlockQ4_0 {
  uint16_t d;              // f16 delta
  uint8_t qs[kQK4_0 / 2];  // nibbles
};
static_assert(sizeof(BlockQ4_0) == 2 + kQK4_0 / 2, "q4_0 block must be 18 bytes");

// q4_1, 20 bytes / 32 values: x = d * q + m, q in [0, 15]; nibble order as q4_0.
struct BlockQ4_1 {
  uint16_t d;  // f16 delta
  uint16_t m;  // f16 min
  uint8_t qs[kQK4_1 / 2];
};
static_assert(sizeof(BlockQ4_1) == 4 + kQK4_1 / 2, "q4_1 block must be 20 bytes");

// q5_0, 22 bytes / 32 values: x = d * (q - 16), q in [0, 31].
// Low 4 bits as in q4_0; bit 4 of element j is bit j of the little-endian uint32 in qh.
struct BlockQ5_0 {
  uint16_t d;     // f16 delta
  uint8_t qh[4];  // 5th bits, little-endian uint32 (not a uint32_t member: that would add padding)
  uint8_t qs[kQK5_0 / 2];
};
static_assert(sizeof(BlockQ5_0) == 2 + 4 + kQK5_0 / 2, "q5_0 block must be 22 bytes");

// q5_1, 24 bytes / 32 values: x = d * q + m, q in [0, 31]; bit layout as q5_0.
struct BlockQ5_1 {
  uint16_t d;  // f16 delta
  uint16_t m;  // f16 min
  uint8_t qh[4];
  uint8_t qs[kQK5_1 / 2];
};
static_assert(sizeof(BlockQ5_1) == 4 + 4 + kQK5_1 / 2, "q5_1 block must be 24 bytes");

// q8_0, 34 bytes / 32 values: x = d * q, q in [-127, 127].
struct BlockQ8_0 {
  uint16_t d;  // f16 delta
  int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 2 + kQK8_0, "q8_0 block must be 34 bytes");

// q8_1, 36 bytes / 32 values (activations only): x = d * q; s = f16(d * sum(q)) feeds the min term
// of the q4_1 / q5_1 dot products.
struct BlockQ8_1 {
  uint16_t d;  // f16 delta
  uint16_t s;  // f16 d * sum(qs)
  int8_t qs[kQK8_1];
};
static_assert(sizeof(BlockQ8_1) == 4 + kQK8_1, "q8_1 block must be 36 bytes");

// ---------------------------------------------------------------------------------------------
// K formats: 256-element super-blocks split into 16 or 8 sub-blocks with quantized sub-scales.
// ---------------------------------------------------------------------------------------------

// q2_K, 84 bytes / 256 values (2.625 bpw): 16 sub-blocks of 16, x = d*sc*q - dmin*m, q in [0, 3].
// scales[j]: low nibble = sc (4-bit scale), high nibble = m (4-bit min) of sub-block j.
// qs: for each 128-half h, byte qs[32h + l] holds elements 128h + l + 32*k at bits 2k..2k+1.
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d;     // f16 super-block scale for the sub-scales
  uint16_t dmin;  // f16 super-block scale for the sub-mins
};
static_assert(sizeof(BlockQ2_K) == kQK_K / 16 + kQK_K / 4 + 4, "q2_K block must be 84 bytes");

// q3_K, 110 bytes / 256 values (3.4375 bpw): 16 sub-blocks of 16, x = d*(sc - 32)*(q - 4),
// q in [0, 7]. Low 2 bits packed like q2_K's qs; bit 2 of element e is bit (e / 32) of hmask[e % 32].
// scales: 16 6-bit values; low 4 bits of sub-block j in byte j (j < 8) or the high nibble of byte j-8,
// high 2 bits in byte 8 + j%4 at bit 2*(j/4).
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  uint16_t d;  // f16 super-block scale
};
static_assert(sizeof(BlockQ3_K) == kQK_K / 8 + kQK_K / 4 + 12 + 2, "q3_K block must be 110 bytes");

// q4_K, 144 bytes / 256 values (4.5 bpw): 8 sub-blocks of 32, x = d*sc*q - dmin*m, q in [0, 15].
// scales: 8 6-bit scales and 8 6-bit mins, see get_scale_min_k4. qs: per 64-element chunk c,
// qs[32c + l] holds element 64c + l (low nibble) and 64c + 32 + l (high nibble).
struct BlockQ4_K {
  uint16_t d;     // f16 super-block scale for the sub-scales
  uint16_t dmin;  // f16 super-block scale for the sub-mins
  uint8_t scales[kKScaleSize];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 4 + kKScaleSize + kQK_K / 2, "q4_K block must be 144 bytes");

// q5_K, 176 bytes / 256 values (5.5 bpw): as q4_K with a 5th bit; q in [0, 31].
// Bit 4 of element 64c + l is bit 2c of qh[l], of element 64c + 32 + l bit 2c + 1 of qh[l].
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 4 + kKScaleSize + kQK_K / 8 + kQK_K / 2, "q5_K block must be 176 bytes");

// q6_K, 210 bytes / 256 values (6.5625 bpw): 16 sub-blocks of 16, x = d*sc*(q - 32), q in [0, 63].
// Per 128-half h and l in [0, 32): ql[64h + l] = elements 128h + l (low) / + 64 (high nibble),
// ql[64h + 32 + l] = elements 128h + 32 + l / + 96; qh[32h + l] holds the top 2 bits of elements
// 128h + l + 32*k at bits 2k..2k+1.
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];  // 8-bit signed sub-block scales
  uint16_t d;                 // f16 super-block scale
};
static_assert(sizeof(BlockQ6_K) == kQK_K / 2 + kQK_K / 4 + kQK_K / 16 + 2, "q6_K block must be 210 bytes");

// q8_K, 292 bytes / 256 values (activations only): x = d * q with an f32 scale, plus the sums of
// each 16 quants, which the K dot products use for their min terms.
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};
static_assert(sizeof(BlockQ8_K) == 4 + kQK_K + 2 * (kQK_K / 16), "q8_K block must be 292 bytes");

// 6-bit scale and min of sub-block j (0..7) of a q4_K / q5_K super-block (ggml's get_scale_min_k4):
// j < 4: scale = q[j] & 63, min = q[j+4] & 63; j >= 4: the low 4 bits come from q[j+4], the high 2
// bits from the top bits of q[j-4] (scale) and q[j] (min).
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// 6-bit scale (0..63, before the -32 offset) of sub-block j (0..15) of a q3_K super-block.
inline int q3_k_scale(const uint8_t* scales, int j) {
  const int low = j < 8 ? (scales[j] & 0xF) : (scales[j - 8] >> 4);
  const int high = (scales[8 + j % 4] >> (2 * (j / 4))) & 3;
  return low | (high << 4);
}

// Element accessors: quant of element e (0..255) of a super-block, decoded from the layouts above.

// Low 2 bits of element e in the q2_K / q3_K qs array.
inline int k_quant_2bit(const uint8_t* qs, int e) {
  return (qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
}

// q3_K: signed quant in [-4, 3] (a clear hmask bit subtracts 4).
inline int q3_k_quant(const BlockQ3_K& b, int e) {
  return k_quant_2bit(b.qs, e) - (((b.hmask[e % 32] >> (e / 32)) & 1) ? 0 : 4);
}

// q4_K: quant in [0, 15].
inline int q4_k_quant(const BlockQ4_K& b, int e) {
  const uint8_t byte = b.qs[32 * (e / 64) + e % 32];
  return (e % 64) < 32 ? (byte & 0xF) : (byte >> 4);
}

// q5_K: quant in [0, 31]; the 5th bit of element e is bit e/32 of qh[e % 32].
inline int q5_k_quant(const BlockQ5_K& b, int e) {
  const uint8_t byte = b.qs[32 * (e / 64) + e % 32];
  const int low = (e % 64) < 32 ? (byte & 0xF) : (byte >> 4);
  return low + 16 * ((b.qh[e % 32] >> (e / 32)) & 1);
}

// q6_K: signed quant in [-32, 31].
inline int q6_k_quant(const BlockQ6_K& b, int e) {
  const int h = e / 128;  // 128-element half
  const int quarter = (e % 128) / 32;
  const int l = e % 32;
  const uint8_t lbyte = b.ql[64 * h + 32 * (quarter & 1) + l];
  const int low = quarter < 2 ? (lbyte & 0xF) : (lbyte >> 4);
  const int high = (b.qh[32 * h + l] >> (2 * quarter)) & 3;
  return (low | (high << 4)) - 32;
}

}  // namespace pocket
