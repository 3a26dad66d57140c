// Per-format scalar reference routines behind the type-dispatching API in quants.h.
// Internal to src/tensor; other code should call quants.h.
//
// Exactness: these functions reproduce ggml's results bit for bit only if the compiler neither
// contracts a*b+c into an FMA nor reassociates float sums. ggml's reference build runs on baseline
// x86-64 (no FMA), so each implementation file starts with a pragma turning contraction off for
// GCC and Clang; never build them with -ffast-math. quants_test.cpp catches any drift.
#pragma once

#include <bit>
#include <cstdint>

#include "tensor/blocks.h"

namespace pocket::ref {

// ggml's nearest_int: round-half-to-even via the 1.5*2^23 magic-number trick, valid for |f| <= 2^22.
inline int nearest_int(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f + 12582912.f);
  return static_cast<int>(bits & 0x007fffffu) - 0x00400000;
}

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
