// Per-format scalar reference routines behind the type-dispatching API in quants.h.
// Internal to src/tensor; other code should call quants.h.
//
// Exactness: these functions reproduce ggml's results bit for bit only if the compiler neither
// contracts a*b+c into an FMA nor reassociates float sums. ggml's reference build runs on baseline
// x86-64 (no FMA), so each implementation file starts with a pragma turning contraction off for
// GCC and Clang; never build them with -ffast-math. quants_test.cpp catches any drift.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

#include "tensor/blocks.h"

namespace pocket::ref {

// ggml's nearest_int: round-half-to-even via the 1.5*2^23 magic-number trick, valid for |f| <= 2^22.
inline int nearest_int(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f + 12582912.f);
  return static_cast<int>(bits & 0x007fffffu) - 0x00400000;
}

// Groups whose largest |x| is below this are treated as all-zero (ggml's GROUP_MAX_EPS).
inline constexpr float kGroupMaxEps = 1e-15f;

// Value of largest magnitude (first one on ties) and that magnitude.
struct AbsMax {
  float max;   // signed
  float amax;  // |max|
};

inline AbsMax find_absmax(const float* x, int n) {
  AbsMax r{0.0f, 0.0f};
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > r.amax) {
      r.amax = ax;
      r.max = x[i];
    }
  }
  return r;
}

// Packs 2-bit levels L[0..255] (values 0..3) as q2_K/q3_K store their low bits: byte 32h + l of qs
// holds elements 128h + l + 32k at bits 2k..2k+1.
template <class Level>
void pack_2bit(const Level* L, uint8_t* qs) {
  for (int j = 0; j < kQK_K; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] =
          static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    }
  }
}

// Stores the 6-bit scale ls and min lm of sub-block j (0..7) into the 12-byte q4_K / q5_K scales
// array (the layout get_scale_min_k4 reads). Sub-blocks 0..3 must be stored before 4..7.
inline void put_scale_min_k4(int j, uint8_t ls, uint8_t lm, uint8_t* out) {
  if (j < 4) {
    out[j] = ls;
    out[j + 4] = lm;
  } else {
    out[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
    out[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
    out[j - 0] |= static_cast<uint8_t>((lm >> 4) << 6);
  }
}

// ggml's make_qkx2_quants (quants_k.cpp): asymmetric levels L[0..n) in [0, nmax] with
// x ~ scale * L - *the_min, best weighted error over nstep+1 candidate inverse scales. With rmin -0.9,
// rdelta 0.05, nstep 36 and use_mad false it is also ggml's weighted make_qkx3_quants.
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min, uint8_t* Laux,
                       float rmin, float rdelta, int nstep, bool use_mad);

// The q6_K encoding after the per-sub-block search (quants_k.cpp): the 16 sub-block scales
// scales[0..16) (max_scale the one of largest magnitude, max_abs_scale that magnitude) as int8 against
// the f16 d, then every element of x[0..256) requantized against the stored scales into L and packed.
// An all-zero super-block (max_abs_scale below kGroupMaxEps) becomes all zero bytes.
void encode_q6_K(const float* x, const float* scales, float max_scale, float max_abs_scale, int8_t* L, BlockQ6_K& y);

// ---- legacy formats (quants_legacy.cpp); n is a multiple of 32 ----
void quantize_q4_0(const float* x, BlockQ4_0* y, int64_t n);
void quantize_q4_1(const float* x, BlockQ4_1* y, int64_t n);
void quantize_q5_0(const float* x, BlockQ5_0* y, int64_t n);
void quantize_q5_1(const float* x, BlockQ5_1* y, int64_t n);
void quantize_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void quantize_q8_1(const float* x, BlockQ8_1* y, int64_t n);

void dequantize_q4_0(const BlockQ4_0* x, float* y, int64_t n);
void dequantize_q4_1(const BlockQ4_1* x, float* y, int64_t n);
void dequantize_q5_0(const BlockQ5_0* x, float* y, int64_t n);
void dequantize_q5_1(const BlockQ5_1* x, float* y, int64_t n);
void dequantize_q8_0(const BlockQ8_0* x, float* y, int64_t n);
void dequantize_q8_1(const BlockQ8_1* x, float* y, int64_t n);  // d * q (ggml has no q8_1 to_float)

float vec_dot_q4_0_q8_0(const BlockQ4_0* x, const BlockQ8_0* y, int64_t n);
float vec_dot_q4_1_q8_1(const BlockQ4_1* x, const BlockQ8_1* y, int64_t n);
float vec_dot_q5_0_q8_0(const BlockQ5_0* x, const BlockQ8_0* y, int64_t n);
float vec_dot_q5_1_q8_1(const BlockQ5_1* x, const BlockQ8_1* y, int64_t n);
float vec_dot_q8_0_q8_0(const BlockQ8_0* x, const BlockQ8_0* y, int64_t n);

// ---- K formats (quants_k.cpp: quantize, quants_k_dot.cpp: dequantize, vec_dot); n % 256 == 0 ----
void quantize_q2_K(const float* x, BlockQ2_K* y, int64_t n);
void quantize_q3_K(const float* x, BlockQ3_K* y, int64_t n);
void quantize_q4_K(const float* x, BlockQ4_K* y, int64_t n);
void quantize_q5_K(const float* x, BlockQ5_K* y, int64_t n);
void quantize_q6_K(const float* x, BlockQ6_K* y, int64_t n);
void quantize_q8_K(const float* x, BlockQ8_K* y, int64_t n);

void dequantize_q2_K(const BlockQ2_K* x, float* y, int64_t n);
void dequantize_q3_K(const BlockQ3_K* x, float* y, int64_t n);
void dequantize_q4_K(const BlockQ4_K* x, float* y, int64_t n);
void dequantize_q5_K(const BlockQ5_K* x, float* y, int64_t n);
void dequantize_q6_K(const BlockQ6_K* x, float* y, int64_t n);
void dequantize_q8_K(const BlockQ8_K* x, float* y, int64_t n);

float vec_dot_q2_K_q8_K(const BlockQ2_K* x, const BlockQ8_K* y, int64_t n);
float vec_dot_q3_K_q8_K(const BlockQ3_K* x, const BlockQ8_K* y, int64_t n);
float vec_dot_q4_K_q8_K(const BlockQ4_K* x, const BlockQ8_K* y, int64_t n);
float vec_dot_q5_K_q8_K(const BlockQ5_K* x, const BlockQ8_K* y, int64_t n);
float vec_dot_q6_K_q8_K(const BlockQ6_K* x, const BlockQ8_K* y, int64_t n);

}  // namespace pocket::ref
