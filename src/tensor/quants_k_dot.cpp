// Scalar reference dequantization and q8_K dot products for ggml's K formats (layouts and element
// accessors in blocks.h; quantization in quants_k.cpp).
//
// Ported from ggml/src/ggml-quants.c (dequantize_row_*) and ggml/src/ggml-cpu/quants.c
// (ggml_vec_dot_*_q8_K_generic), keeping ggml's float operand order: dequantized values are
// (d * sub_scale) * q - (dmin * sub_min), evaluated left to right exactly as there.

// clang-format off
#include "tensor/fp_contract_off.h"  // first: no FMA contraction in this file (bit-exact with ggml)
// clang-format on
#include <cstdint>

#include "tensor/fp16.h"
#include "tensor/quants_impl.h"

namespace pocket::ref {

// ---------------------------------------------------------------------------------------------
// Dequantization (dequantize_row_*), per element index e of the super-block.
// ---------------------------------------------------------------------------------------------

void dequantize_q2_K(const BlockQ2_K* x, float* y, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t i = 0; i < nb; ++i, y += kQK_K) {
    const float d = fp16_to_fp32(x[i].d);
    const float min = fp16_to_fp32(x[i].dmin);
    for (int e = 0; e < kQK_K; ++e) {
      const uint8_t sc = x[i].scales[e / 16];
      const float dl = d * static_cast<float>(sc & 0xF);
      const float ml = min * static_cast<float>(sc >> 4);
      y[e] = dl * static_cast<float>(k_quant_2bit(x[i].qs, e)) - ml;
    }
  }
}

void dequantize_q3_K(const BlockQ3_K* x, float* y, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t i = 0; i < nb; ++i, y += kQK_K) {
    const float d_all = fp16_to_fp32(x[i].d);
    for (int e = 0; e < kQK_K; ++e) {
      const float dl = d_all * static_cast<float>(q3_k_scale(x[i].scales, e / 16) - 32);
      y[e] = dl * static_cast<float>(q3_k_quant(x[i], e));
    }
  }
}

namespace {

// Q4_K and Q5_K share the layout of scales and mins (8 sub-blocks of 32, 6-bit packed); only the way
// a quant is read differs. y = d·scale·q − dmin·min.
template <class Block, class QuantFn>
void dequantize_k_with_mins(const Block* x, float* y, int64_t n, QuantFn quant) {
  const int64_t nb = n / kQK_K;
  for (int64_t i = 0; i < nb; ++i, y += kQK_K) {
    const float d = fp16_to_fp32(x[i].d);
    const float min = fp16_to_fp32(x[i].dmin);
    for (int e = 0; e < kQK_K; ++e) {
      uint8_t sc;
      uint8_t m;
      get_scale_min_k4(e / 32, x[i].scales, &sc, &m);
      y[e] = d * static_cast<float>(sc) * static_cast<float>(quant(x[i], e)) - min * static_cast<float>(m);
    }
  }
}

}  // namespace

void dequantize_q4_K(const BlockQ4_K* x, float* y, int64_t n) {
  dequantize_k_with_mins(x, y, n, [](const BlockQ4_K& b, int e) { return q4_k_quant(b, e); });
}

void dequantize_q5_K(const BlockQ5_K* x, float* y, int64_t n) {
  dequantize_k_with_mins(x, y, n, [](const BlockQ5_K& b, int e) { return q5_k_quant(b, e); });
}

void dequantize_q6_K(const BlockQ6_K* x, float* y, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t i = 0; i < nb; ++i, y += kQK_K) {
    const float d = fp16_to_fp32(x[i].d);
    for (int e = 0; e < kQK_K; ++e) {
      y[e] = d * static_cast<float>(x[i].scales[e / 16]) * static_cast<float>(q6_k_quant(x[i], e));
    }
  }
}

void dequantize_q8_K(const BlockQ8_K* x, float* y, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t i = 0; i < nb; ++i, y += kQK_K) {
    for (int e = 0; e < kQK_K; ++e) y[e] = x[i].d * static_cast<float>(x[i].qs[e]);
  }
}

// ---------------------------------------------------------------------------------------------
// Dot products with q8_K activations (ggml_vec_dot_*_q8_K_generic).
//
// The q3_K..q6_K generic kernels accumulate integer products into 8 lanes (lane = e % 8), scale
// each lane by d = d_w * d_x per super-block into 8 float partial sums, subtract the min terms from
// a separate float total, and add the 8 lanes at the very end. Integer sums are exact in any order;
// the lane structure of the float sums is what must be preserved.
// ---------------------------------------------------------------------------------------------

namespace {

using Lanes = float[8];

// Adds d * (sum over e with e % 8 == l of scale(e) * q(e) * q8[e]) into lanes[l].
template <class ScaleOf, class QuantOf>
void accumulate_lanes(const int8_t* q8, ScaleOf scale_of, QuantOf quant_of, float d, Lanes& lanes) {
  int32_t aux32[8] = {};
  for (int e = 0; e < kQK_K; ++e) aux32[e % 8] += scale_of(e) * (quant_of(e) * q8[e]);
  for (int l = 0; l < 8; ++l) lanes[l] += d * static_cast<float>(aux32[l]);
}

float finish_lanes(float sumf, const Lanes& lanes) {
  for (int l = 0; l < 8; ++l) sumf += lanes[l];
  return sumf;
}

// q4_K and q5_K share scales, mins and the dot structure; they differ in how a quant is read.
template <class Block, class QuantOf>
float vec_dot_k4_q8_K(const Block* x, const BlockQ8_K* y, int64_t n, QuantOf quant_of) {
  const int64_t nb = n / kQK_K;
  Lanes sums = {};
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int scales[8];
    int sumi = 0;  // sum over sub-blocks of min * (sum of the activation quants)
    for (int j = 0; j < 8; ++j) {
      uint8_t sc;
      uint8_t m;
      get_scale_min_k4(j, x[i].scales, &sc, &m);
      scales[j] = sc;
      sumi += (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]) * m;
    }
    const float d = fp16_to_fp32(x[i].d) * y[i].d;
    accumulate_lanes(
        y[i].qs, [&](int e) { return scales[e / 32]; }, [&](int e) { return quant_of(x[i], e); }, d, sums);
    const float dmin = fp16_to_fp32(x[i].dmin) * y[i].d;
    sumf -= dmin * static_cast<float>(sumi);
  }
  return finish_lanes(sumf, sums);
}

}  // namespace

float vec_dot_q2_K_q8_K(const BlockQ2_K* x, const BlockQ8_K* y, int64_t n) {
  const int64_t nb = n / kQK_K;
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* sc = x[i].scales;
    int summs = 0;
    for (int j = 0; j < 16; ++j) summs += y[i].bsums[j] * (sc[j] >> 4);
    const float dall = y[i].d * fp16_to_fp32(x[i].d);
    const float dmin = y[i].d * fp16_to_fp32(x[i].dmin);
    int isum = 0;
    for (int e = 0; e < kQK_K; ++e) isum += (sc[e / 16] & 0xF) * (y[i].qs[e] * k_quant_2bit(x[i].qs, e));
    sumf += dall * static_cast<float>(isum) - dmin * static_cast<float>(summs);
  }
  return sumf;
}

float vec_dot_q3_K_q8_K(const BlockQ3_K* x, const BlockQ8_K* y, int64_t n) {
  const int64_t nb = n / kQK_K;
  Lanes sums = {};
  for (int64_t i = 0; i < nb; ++i) {
    int scales[16];
    for (int j = 0; j < 16; ++j) scales[j] = q3_k_scale(x[i].scales, j) - 32;
    const float d = fp16_to_fp32(x[i].d) * y[i].d;
    accumulate_lanes(
        y[i].qs, [&](int e) { return scales[e / 16]; }, [&](int e) { return q3_k_quant(x[i], e); }, d, sums);
  }
  return finish_lanes(0.0f, sums);
}

float vec_dot_q4_K_q8_K(const BlockQ4_K* x, const BlockQ8_K* y, int64_t n) {
  return vec_dot_k4_q8_K(x, y, n, q4_k_quant);
}

float vec_dot_q5_K_q8_K(const BlockQ5_K* x, const BlockQ8_K* y, int64_t n) {
  return vec_dot_k4_q8_K(x, y, n, q5_k_quant);
}

float vec_dot_q6_K_q8_K(const BlockQ6_K* x, const BlockQ8_K* y, int64_t n) {
  const int64_t nb = n / kQK_K;
  Lanes sums = {};
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_fp32(x[i].d) * y[i].d;
    accumulate_lanes(
        y[i].qs, [&](int e) { return static_cast<int>(x[i].scales[e / 16]); },
        [&](int e) { return q6_k_quant(x[i], e); }, d, sums);
  }
  return finish_lanes(0.0f, sums);
}

}  // namespace pocket::ref
