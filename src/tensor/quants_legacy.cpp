// Scalar reference code for ggml's 32-element "legacy" formats q4_0, q4_1, q5_0, q5_1, q8_0, q8_1.
//
// Ported from ggml/src/ggml-quants.c (quantize_row_*_ref, dequantize_row_*) and
// ggml/src/ggml-cpu/quants.c (ggml_vec_dot_*_generic). Float expressions keep ggml's operand order
// and int/float conversions exactly, because the point of this file is bit-identical output:
// e.g. q4_0 scales its block sum as (sumi * dx) * dy while q8_0 uses sumi * (dx * dy).

// clang-format off
#include "tensor/fp_contract_off.h"  // first: no FMA contraction in this file (bit-exact with ggml)
// clang-format on
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>

#include "tensor/fp16.h"
#include "tensor/quants_impl.h"

namespace pocket::ref {
namespace {

// The 5th-bit words of q5_0/q5_1 are little-endian uint32s in the file.
uint32_t load_qh(const uint8_t qh[4]) {
  return static_cast<uint32_t>(qh[0]) | (static_cast<uint32_t>(qh[1]) << 8) | (static_cast<uint32_t>(qh[2]) << 16) |
         (static_cast<uint32_t>(qh[3]) << 24);
}

void store_qh(uint32_t v, uint8_t qh[4]) {
  for (int b = 0; b < 4; ++b) qh[b] = static_cast<uint8_t>(v >> (8 * b));
}

// Value of largest magnitude in a block (the first one on ties), as the symmetric formats take it.
float signed_absmax(const float* x, int n) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

struct MinMax {
  float min;
  float max;
};

MinMax block_min_max(const float* x, int n) {
  MinMax r{FLT_MAX, -FLT_MAX};
  for (int j = 0; j < n; ++j) {
    if (x[j] < r.min) r.min = x[j];
    if (x[j] > r.max) r.max = x[j];
  }
  return r;
}

float block_absmax(const float* x, int n) {
  float amax = 0.0f;
  for (int j = 0; j < n; ++j) {
    const float a = std::fabs(x[j]);
    amax = amax > a ? amax : a;  // ggml's MAX(amax, fabsf(v))
  }
  return amax;
}

// The nibble/5-bit quantizers convert with C's truncating (int8_t)/(uint8_t) casts after adding
// the rounding offset; the values are in range by construction.
int trunc_i8(float v) { return static_cast<int8_t>(v); }
int trunc_u8(float v) { return static_cast<uint8_t>(v); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Quantization (quantize_row_*_ref)
// ---------------------------------------------------------------------------------------------

void quantize_q4_0(const float* x, BlockQ4_0* y, int64_t n) {
  const int64_t nb = n / kQK4_0;
  for (int64_t i = 0; i < nb; ++i, x += kQK4_0) {
    // Map the extreme value to -8 so its sign decides d's sign and the other end gets 7.
    const float max = signed_absmax(x, kQK4_0);
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const float x0 = x[j] * id;
      const float x1 = x[kQK4_0 / 2 + j] * id;
      const int q0 = std::min(15, trunc_i8(x0 + 8.5f));
      const int q1 = std::min(15, trunc_i8(x1 + 8.5f));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_q4_1(const float* x, BlockQ4_1* y, int64_t n) {
  const int64_t nb = n / kQK4_1;
  for (int64_t i = 0; i < nb; ++i, x += kQK4_1) {
    const MinMax mm = block_min_max(x, kQK4_1);
    const float d = (mm.max - mm.min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(mm.min);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      const float x0 = (x[j] - mm.min) * id;
      const float x1 = (x[kQK4_1 / 2 + j] - mm.min) * id;
      const int q0 = std::min(15, trunc_i8(x0 + 0.5f));
      const int q1 = std::min(15, trunc_i8(x1 + 0.5f));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_q5_0(const float* x, BlockQ5_0* y, int64_t n) {
  const int64_t nb = n / kQK5_0;
  for (int64_t i = 0; i < nb; ++i, x += kQK5_0) {
    const float max = signed_absmax(x, kQK5_0);
    const float d = max / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const float x0 = x[j] * id;
      const float x1 = x[kQK5_0 / 2 + j] * id;
      const uint32_t q0 = static_cast<uint32_t>(std::min(31, trunc_i8(x0 + 16.5f)));
      const uint32_t q1 = static_cast<uint32_t>(std::min(31, trunc_i8(x1 + 16.5f)));
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + kQK5_0 / 2);
    }
    store_qh(qh, y[i].qh);
  }
}

void quantize_q5_1(const float* x, BlockQ5_1* y, int64_t n) {
  const int64_t nb = n / kQK5_1;
  for (int64_t i = 0; i < nb; ++i, x += kQK5_1) {
    const MinMax mm = block_min_max(x, kQK5_1);
    const float d = (mm.max - mm.min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(mm.min);
    uint32_t qh = 0;
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      const float x0 = (x[j] - mm.min) * id;
      const float x1 = (x[kQK5_1 / 2 + j] - mm.min) * id;
      // Unlike q4_1, ggml does not clamp here: (x - min) / d <= 31 + rounding.
      const uint32_t q0 = static_cast<uint32_t>(trunc_u8(x0 + 0.5f));
      const uint32_t q1 = static_cast<uint32_t>(trunc_u8(x1 + 0.5f));
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + kQK5_1 / 2);
    }
    store_qh(qh, y[i].qh);
  }
}

void quantize_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  const int64_t nb = n / kQK8_0;
  for (int64_t i = 0; i < nb; ++i, x += kQK8_0) {
    const float d = block_absmax(x, kQK8_0) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    // roundf: halves away from zero (unlike nearest_int in the K formats).
    for (int j = 0; j < kQK8_0; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

void quantize_q8_1(const float* x, BlockQ8_1* y, int64_t n) {
  const int64_t nb = n / kQK8_1;
  for (int64_t i = 0; i < nb; ++i, x += kQK8_1) {
    const float d = block_absmax(x, kQK8_1) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < kQK8_1; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
      sum += y[i].qs[j];
    }
    y[i].s = fp32_to_fp16(static_cast<float>(sum) * d);
  }
}

// ---------------------------------------------------------------------------------------------
// Dequantization (dequantize_row_*)
// ---------------------------------------------------------------------------------------------

void dequantize_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
  const int64_t nb = n / kQK4_0;
  for (int64_t i = 0; i < nb; ++i, y += kQK4_0) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const int x0 = (x[i].qs[j] & 0x0F) - 8;
      const int x1 = (x[i].qs[j] >> 4) - 8;
      y[j] = static_cast<float>(x0) * d;
      y[j + kQK4_0 / 2] = static_cast<float>(x1) * d;
    }
  }
}

void dequantize_q4_1(const BlockQ4_1* x, float* y, int64_t n) {
  const int64_t nb = n / kQK4_1;
  for (int64_t i = 0; i < nb; ++i, y += kQK4_1) {
    const float d = fp16_to_fp32(x[i].d);
    const float m = fp16_to_fp32(x[i].m);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      const int x0 = x[i].qs[j] & 0x0F;
      const int x1 = x[i].qs[j] >> 4;
      y[j] = static_cast<float>(x0) * d + m;
      y[j + kQK4_1 / 2] = static_cast<float>(x1) * d + m;
    }
  }
}

void dequantize_q5_0(const BlockQ5_0* x, float* y, int64_t n) {
  const int64_t nb = n / kQK5_0;
  for (int64_t i = 0; i < nb; ++i, y += kQK5_0) {
    const float d = fp16_to_fp32(x[i].d);
    const uint32_t qh = load_qh(x[i].qh);
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const uint32_t h0 = ((qh >> j) << 4) & 0x10;
      const uint32_t h1 = (qh >> (j + 12)) & 0x10;
      const int x0 = static_cast<int>((x[i].qs[j] & 0x0Fu) | h0) - 16;
      const int x1 = static_cast<int>((x[i].qs[j] >> 4) | h1) - 16;
      y[j] = static_cast<float>(x0) * d;
      y[j + kQK5_0 / 2] = static_cast<float>(x1) * d;
    }
  }
}

void dequantize_q5_1(const BlockQ5_1* x, float* y, int64_t n) {
  const int64_t nb = n / kQK5_1;
  for (int64_t i = 0; i < nb; ++i, y += kQK5_1) {
    const float d = fp16_to_fp32(x[i].d);
    const float m = fp16_to_fp32(x[i].m);
    const uint32_t qh = load_qh(x[i].qh);
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      const uint32_t h0 = ((qh >> j) << 4) & 0x10;
      const uint32_t h1 = (qh >> (j + 12)) & 0x10;
      const int x0 = static_cast<int>((x[i].qs[j] & 0x0Fu) | h0);
      const int x1 = static_cast<int>((x[i].qs[j] >> 4) | h1);
      y[j] = static_cast<float>(x0) * d + m;
      y[j + kQK5_1 / 2] = static_cast<float>(x1) * d + m;
    }
  }
}

void dequantize_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
  const int64_t nb = n / kQK8_0;
  for (int64_t i = 0; i < nb; ++i, y += kQK8_0) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK8_0; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

void dequantize_q8_1(const BlockQ8_1* x, float* y, int64_t n) {
  const int64_t nb = n / kQK8_1;
  for (int64_t i = 0; i < nb; ++i, y += kQK8_1) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK8_1; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

// ---------------------------------------------------------------------------------------------
// Dot products with quantized activations (ggml_vec_dot_*_generic). Integer partial sums are
// exact; only the per-block float scaling and the running float sum can round.
// ---------------------------------------------------------------------------------------------

float vec_dot_q4_0_q8_0(const BlockQ4_0* x, const BlockQ8_0* y, int64_t n) {
  const int64_t nb = n / kQK8_0;
  float sumf = 0.0f;
  for (int64_t ib = 0; ib < nb; ++ib) {
    int sumi = 0;
    for (int j = 0; j < kQK8_0 / 2; ++j) {
      const int v0 = (x[ib].qs[j] & 0x0F) - 8;
      const int v1 = (x[ib].qs[j] >> 4) - 8;
      sumi += v0 * y[ib].qs[j] + v1 * y[ib].qs[j + kQK8_0 / 2];
    }
    sumf += static_cast<float>(sumi) * fp16_to_fp32(x[ib].d) * fp16_to_fp32(y[ib].d);
  }
  return sumf;
}

float vec_dot_q4_1_q8_1(const BlockQ4_1* x, const BlockQ8_1* y, int64_t n) {
  const int64_t nb = n / kQK8_1;
  float sumf = 0.0f;
  for (int64_t ib = 0; ib < nb; ++ib) {
    int sumi = 0;
    for (int j = 0; j < kQK8_1 / 2; ++j) {
      const int v0 = x[ib].qs[j] & 0x0F;
      const int v1 = x[ib].qs[j] >> 4;
      sumi += v0 * y[ib].qs[j] + v1 * y[ib].qs[j + kQK8_1 / 2];
    }
    // The min contributes m * sum(x) = m * s, with s precomputed by quantize_q8_1.
    sumf += (fp16_to_fp32(x[ib].d) * fp16_to_fp32(y[ib].d)) * static_cast<float>(sumi) +
            fp16_to_fp32(x[ib].m) * fp16_to_fp32(y[ib].s);
  }
  return sumf;
}

float vec_dot_q5_0_q8_0(const BlockQ5_0* x, const BlockQ8_0* y, int64_t n) {
  const int64_t nb = n / kQK8_0;
  float sumf = 0.0f;
  for (int64_t ib = 0; ib < nb; ++ib) {
    const uint32_t qh = load_qh(x[ib].qh);
    int sumi = 0;
    for (int j = 0; j < kQK8_0 / 2; ++j) {
      const uint32_t h0 = ((qh >> j) << 4) & 0x10;
      const uint32_t h1 = (qh >> (j + 12)) & 0x10;
      const int v0 = static_cast<int>((x[ib].qs[j] & 0x0Fu) | h0) - 16;
      const int v1 = static_cast<int>((x[ib].qs[j] >> 4) | h1) - 16;
      sumi += v0 * y[ib].qs[j] + v1 * y[ib].qs[j + kQK8_0 / 2];
    }
    sumf += (fp16_to_fp32(x[ib].d) * fp16_to_fp32(y[ib].d)) * static_cast<float>(sumi);
  }
  return sumf;
}

float vec_dot_q5_1_q8_1(const BlockQ5_1* x, const BlockQ8_1* y, int64_t n) {
  const int64_t nb = n / kQK8_1;
  float sumf = 0.0f;
  for (int64_t ib = 0; ib < nb; ++ib) {
    const uint32_t qh = load_qh(x[ib].qh);
    int sumi = 0;
    for (int j = 0; j < kQK8_1 / 2; ++j) {
      const uint32_t h0 = ((qh >> j) << 4) & 0x10;
      const uint32_t h1 = (qh >> (j + 12)) & 0x10;
      const int v0 = static_cast<int>((x[ib].qs[j] & 0x0Fu) | h0);
      const int v1 = static_cast<int>((x[ib].qs[j] >> 4) | h1);
      sumi += v0 * y[ib].qs[j] + v1 * y[ib].qs[j + kQK8_1 / 2];
    }
    sumf += (fp16_to_fp32(x[ib].d) * fp16_to_fp32(y[ib].d)) * static_cast<float>(sumi) +
            fp16_to_fp32(x[ib].m) * fp16_to_fp32(y[ib].s);
  }
  return sumf;
}

float vec_dot_q8_0_q8_0(const BlockQ8_0* x, const BlockQ8_0* y, int64_t n) {
  const int64_t nb = n / kQK8_0;
  float sumf = 0.0f;
  for (int64_t ib = 0; ib < nb; ++ib) {
    int sumi = 0;
    for (int j = 0; j < kQK8_0; ++j) sumi += x[ib].qs[j] * y[ib].qs[j];
    sumf += static_cast<float>(sumi) * (fp16_to_fp32(x[ib].d) * fp16_to_fp32(y[ib].d));
  }
  return sumf;
}

}  // namespace pocket::ref
