// Importance-weighted quantizers (see quants_weighted.h): the quant_weights paths of ggml's
// quantize_q4_0 / q4_1 / q5_0 / q5_1 / q2_K / q3_K / q4_K / q5_K / q6_K (ggml/src/ggml-quants.c,
// quantize_row_*_impl and the weighted make_*_quants searches). Like quants_k.cpp, every search keeps
// ggml's operand order, int->float conversions and nearest_int rounding, because the chosen scales hinge
// on float comparisons; a different order changes bytes, not just the last bit of an error.

// clang-format off
#include "tensor/fp_contract_off.h"  // first: no FMA contraction in this file (bit-exact with ggml)
// clang-format on
#include "tensor/quants_weighted.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/quants.h"
#include "tensor/quants_impl.h"

namespace pocket {
namespace {

using ref::nearest_int;

using ref::kGroupMaxEps;

float to_f(int v) { return static_cast<float>(v); }

// Symmetric levels: L[i] = l + nmax with l in [-nmax, nmax), x ~ scale * l, chosen to maximise the
// weighted fit (sum w x l)^2 / (sum w l^2) over 19 candidate inverse scales (ggml's make_qx_quants
// with quant weights). Returns the scale.
float make_qx_weighted(int n, int nmax, const float* x, int8_t* L, const float* w) {
  const auto [max, amax] = ref::find_absmax(x, n);
  if (amax < kGroupMaxEps) {
    std::fill(L, L + n, int8_t{0});
    return 0.0f;
  }
  const auto level = [&](float iscale, int i) { return std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1); };
  float iscale = to_f(-nmax) / max;
  float sumlx = 0.0f, suml2 = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = level(iscale, i);
    L[i] = static_cast<int8_t>(l + nmax);
    sumlx += w[i] * x[i] * to_f(l);
    suml2 += w[i] * to_f(l) * to_f(l);
  }
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(to_f(nmax) + 0.1f * to_f(is)) / max;
    sumlx = suml2 = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int l = level(iscale, i);
      sumlx += w[i] * x[i] * to_f(l);
      suml2 += w[i] * to_f(l) * to_f(l);
    }
    if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(level(iscale, i) + nmax);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Affine levels L in [0, nmax]: x ~ scale * L - the_min, least-squares in scale and min over 37
// candidate inverse scales, keeping the smallest weighted squared error: ggml's make_qkx3_quants with
// weights (rmin -0.9, rdelta 0.05, nstep 36, squared error), which computes what make_qkx2_quants does.
float make_qkx3_weighted(int n, int nmax, const float* x, const float* w, uint8_t* L, float* the_min, uint8_t* Laux) {
  return ref::make_qkx2_quants(n, nmax, x, w, L, the_min, Laux, -0.9f, 0.05f, 36, false);
}

// Non-negative levels L in [0, nmax] for non-negative x (the sub-block scales and mins of the K
// quants): x ~ scale * L, best of 9 inverse scales by weighted squared error, then up to 5 rounds of
// single-level changes that improve the weighted fit (ggml's make_qp_quants).
float make_qp_weighted(int n, int nmax, const float* x, uint8_t* L, const float* w) {
  float max = 0.0f;
  for (int i = 0; i < n; ++i) max = max > x[i] ? max : x[i];
  if (max < kGroupMaxEps) {
    std::memset(L, 0, static_cast<size_t>(n));
    return 0.0f;
  }
  float iscale = to_f(nmax) / max;
  for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(nearest_int(iscale * x[i]));
  const float scale = 1.0f / iscale;
  float best_mse = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float diff = x[i] - scale * to_f(L[i]);
    best_mse += w[i] * diff * diff;
  }
  for (int is = -4; is <= 4; ++is) {
    if (is == 0) continue;
    const float iscale_is = (0.1f * to_f(is) + to_f(nmax)) / max;
    const float scale_is = 1.0f / iscale_is;
    float mse = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int l = std::min(nmax, nearest_int(iscale_is * x[i]));
      const float diff = x[i] - scale_is * to_f(l);
      mse += w[i] * diff * diff;
    }
    if (mse < best_mse) {
      best_mse = mse;
      iscale = iscale_is;
    }
  }
  float sumlx = 0.0f, suml2 = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = std::min(nmax, nearest_int(iscale * x[i]));
    L[i] = static_cast<uint8_t>(l);
    sumlx += w[i] * x[i] * to_f(l);
    suml2 += w[i] * to_f(l) * to_f(l);
  }
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float wi = w[i];
      float slx = sumlx - wi * x[i] * to_f(L[i]);
      float sl2 = suml2 - wi * to_f(L[i]) * to_f(L[i]);
      if (slx > 0.0f && sl2 > 0.0f) {
        const int new_l = std::min(nmax, nearest_int(x[i] * sl2 / slx));
        if (new_l != L[i]) {
          slx += wi * x[i] * to_f(new_l);
          sl2 += wi * to_f(new_l) * to_f(new_l);
          if (slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = static_cast<uint8_t>(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (n_changed == 0) break;
  }
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// Sum of squares over n values, in order (ggml's sigma² numerators).
float sum_squares(const float* x, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}

// weight[j] = qw[j] * sqrt(sigma2 + x[j]^2): the importance times the local signal scale.
void block_weights(const float* x, const float* qw, float sigma2, int n, float* weight) {
  for (int j = 0; j < n; ++j) weight[j] = qw[j] * std::sqrt(sigma2 + x[j] * x[j]);
}

// Low nibble element j, high nibble element j + 16 (q4_0 / q4_1 / q5_* low bits); the 5th bits into qh.
template <class L>
void pack_32(const L* levels, uint8_t* qs, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    const auto lo = static_cast<uint8_t>(levels[j]), hi = static_cast<uint8_t>(levels[j + 16]);
    qs[j] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
    qh |= ((lo & 0x10u) >> 4) << j;
    qh |= ((hi & 0x10u) >> 4) << (j + 16);
  }
  if (qh_bytes) std::memcpy(qh_bytes, &qh, 4);
}

// ---- legacy formats: sigma² over the whole row ----

void q4_0_row(const float* x, BlockQ4_0* y, int64_t n, const float* qw) {
  const float sigma2 = sum_squares(x, n) / static_cast<float>(n);
  float weight[kQK4_0];
  int8_t L[kQK4_0];
  for (int64_t ib = 0; ib < n / kQK4_0; ++ib) {
    const float* xb = x + kQK4_0 * ib;
    block_weights(xb, qw + kQK4_0 * ib, sigma2, kQK4_0, weight);
    y[ib].d = fp32_to_fp16(make_qx_weighted(kQK4_0, 8, xb, L, weight));
    pack_32(L, y[ib].qs, nullptr);
  }
}

void q4_1_row(const float* x, BlockQ4_1* y, int64_t n, const float* qw) {
  const float sigma2 = sum_squares(x, n) / static_cast<float>(n);
  float weight[kQK4_1];
  uint8_t L[kQK4_1], Laux[kQK4_1];
  for (int64_t ib = 0; ib < n / kQK4_1; ++ib) {
    const float* xb = x + kQK4_1 * ib;
    block_weights(xb, qw + kQK4_1 * ib, sigma2, kQK4_1, weight);
    float min = 0.0f;
    const float d = make_qkx3_weighted(kQK4_1, 15, xb, weight, L, &min, Laux);
    y[ib].d = fp32_to_fp16(d);
    y[ib].m = fp32_to_fp16(-min);
    pack_32(L, y[ib].qs, nullptr);
  }
}

void q5_0_row(const float* x, BlockQ5_0* y, int64_t n, const float* qw) {
  const float sigma2 = sum_squares(x, n) / static_cast<float>(n);
  float weight[kQK5_0];
  int8_t L[kQK5_0];
  for (int64_t ib = 0; ib < n / kQK5_0; ++ib) {
    const float* xb = x + kQK5_0 * ib;
    block_weights(xb, qw + kQK5_0 * ib, sigma2, kQK5_0, weight);
    y[ib].d = fp32_to_fp16(make_qx_weighted(kQK5_0, 16, xb, L, weight));
    pack_32(L, y[ib].qs, y[ib].qh);
  }
}

void q5_1_row(const float* x, BlockQ5_1* y, int64_t n, const float* qw) {
  const float sigma2 = sum_squares(x, n) / static_cast<float>(n);
  float weight[kQK5_1];
  uint8_t L[kQK5_1], Laux[kQK5_1];
  for (int64_t ib = 0; ib < n / kQK5_1; ++ib) {
    const float* xb = x + kQK5_1 * ib;
    block_weights(xb, qw + kQK5_1 * ib, sigma2, kQK5_1, weight);
    float min = 0.0f;
    const float d = make_qkx3_weighted(kQK5_1, 31, xb, weight, L, &min, Laux);
    y[ib].d = fp32_to_fp16(d);
    y[ib].m = fp32_to_fp16(-min);
    pack_32(L, y[ib].qs, y[ib].qh);
  }
}

// ---- K formats: 256-value super-blocks, sigma² per super-block ----

void q2_K_row(const float* x, BlockQ2_K* y, int64_t n, const float* qw) {
  uint8_t L[kQK_K], Laux[16], Ls[kQK_K / 16], Lm[kQK_K / 16];
  float mins[kQK_K / 16], scales[kQK_K / 16], sw[kQK_K / 16], weight[16];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    const float sigma2 = sum_squares(x, kQK_K) / to_f(kQK_K);
    for (int j = 0; j < kQK_K / 16; ++j) {
      block_weights(x + 16 * j, qw + kQK_K * i + 16 * j, sigma2, 16, weight);
      sw[j] = 0.0f;
      for (int l = 0; l < 16; ++l) sw[j] += weight[l];
      scales[j] = make_qkx3_weighted(16, 3, x + 16 * j, weight, L + 16 * j, &mins[j], Laux);
    }
    float dm = make_qp_weighted(kQK_K / 16, 15, scales, Ls, sw);
    float mm = make_qp_weighted(kQK_K / 16, 15, mins, Lm, sw);
    y[i].d = fp32_to_fp16(dm);
    y[i].dmin = fp32_to_fp16(mm);
    dm = fp16_to_fp32(y[i].d);
    mm = fp16_to_fp32(y[i].dmin);
    for (int j = 0; j < kQK_K / 16; ++j) y[i].scales[j] = static_cast<uint8_t>(Ls[j] | (Lm[j] << 4));
    for (int j = 0; j < kQK_K / 16; ++j) {  // requantize with the stored scales
      const float d = dm * to_f(y[i].scales[j] & 0xF);
      if (d == 0.0f) continue;
      const float m = mm * to_f(y[i].scales[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) {
        L[16 * j + ii] = static_cast<uint8_t>(std::clamp(nearest_int((x[16 * j + ii] + m) / d), 0, 3));
      }
    }
    ref::pack_2bit(L, y[i].qs);
  }
}

void q3_K_row(const float* x, BlockQ3_K* y, int64_t n, const float* qw) {
  int8_t L[kQK_K], Ls[kQK_K / 16];
  float scales[kQK_K / 16], weight[16], sw[kQK_K / 16];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    const float sigma2 = 2 * sum_squares(x, kQK_K) / to_f(kQK_K);
    for (int j = 0; j < kQK_K / 16; ++j) {
      block_weights(x + 16 * j, qw + kQK_K * i + 16 * j, sigma2, 16, weight);
      float sumw = 0.0f;
      for (int l = 0; l < 16; ++l) sumw += weight[l];
      sw[j] = sumw;
      scales[j] = make_qx_weighted(16, 4, x + 16 * j, L + 16 * j, weight);
    }
    std::memset(y[i].scales, 0, 12);
    const float d_block = make_qx_weighted(kQK_K / 16, 32, scales, Ls, sw);
    for (int j = 0; j < kQK_K / 16; ++j) {
      int l = Ls[j];
      if (j < 8) {
        y[i].scales[j] = static_cast<uint8_t>(l & 0xF);
      } else {
        y[i].scales[j - 8] = static_cast<uint8_t>(y[i].scales[j - 8] | ((l & 0xF) << 4));
      }
      l >>= 4;
      y[i].scales[j % 4 + 8] = static_cast<uint8_t>(y[i].scales[j % 4 + 8] | (l << (2 * (j / 4))));
    }
    y[i].d = fp32_to_fp16(d_block);
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = fp16_to_fp32(y[i].d) * to_f(q3_k_scale(y[i].scales, j) - 32);
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        L[16 * j + ii] = static_cast<int8_t>(std::clamp(nearest_int(x[16 * j + ii] / d), -4, 3) + 4);
      }
    }
    // High bit of element j goes to bit j / 32 of hmask[j % 32].
    std::memset(y[i].hmask, 0, kQK_K / 8);
    for (int j = 0; j < kQK_K; ++j) {
      if (L[j] > 3) {
        y[i].hmask[j % (kQK_K / 8)] = static_cast<uint8_t>(y[i].hmask[j % (kQK_K / 8)] | (1u << (j / (kQK_K / 8))));
        L[j] = static_cast<int8_t>(L[j] - 4);
      }
    }
    ref::pack_2bit(L, y[i].qs);
  }
}

// q4_K / q5_K share the search: 8 sub-blocks of 32 with affine levels in [0, nmax], their scales and
// mins encoded as 6-bit values against the f16 super-block d and dmin, then the levels recomputed
// from the stored (rounded) scales. Leaves the final levels in L.
template <class Block>
void k_affine_superblock(const float* x, const float* qw, int nmax, Block& y, uint8_t* L, bool clamp_scales) {
  uint8_t Laux[32], Ls[kQK_K / 32], Lm[kQK_K / 32];
  float weights[32], sw[kQK_K / 32], mins[kQK_K / 32], scales[kQK_K / 32];
  const float sigma2 = 2 * sum_squares(x, kQK_K) / to_f(kQK_K);
  for (int j = 0; j < kQK_K / 32; ++j) {
    block_weights(x + 32 * j, qw + 32 * j, sigma2, 32, weights);
    float sumw = 0.0f;
    for (int l = 0; l < 32; ++l) sumw += weights[l];
    sw[j] = sumw;
    scales[j] = make_qkx3_weighted(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux);
  }
  const float d_block = make_qp_weighted(kQK_K / 32, 63, scales, Ls, sw);
  const float m_block = make_qp_weighted(kQK_K / 32, 63, mins, Lm, sw);
  for (int j = 0; j < kQK_K / 32; ++j) {
    uint8_t ls = Ls[j], lm = Lm[j];
    if (clamp_scales) {
      ls = std::min<uint8_t>(63, ls);
      lm = std::min<uint8_t>(63, lm);
    }
    ref::put_scale_min_k4(j, ls, lm, y.scales);
  }
  y.d = fp32_to_fp16(d_block);
  y.dmin = fp32_to_fp16(m_block);
  for (int j = 0; j < kQK_K / 32; ++j) {
    uint8_t sc = 0, m = 0;
    get_scale_min_k4(j, y.scales, &sc, &m);
    const float d = fp16_to_fp32(y.d) * to_f(sc);
    if (d == 0.0f) continue;
    const float dm = fp16_to_fp32(y.dmin) * to_f(m);
    for (int ii = 0; ii < 32; ++ii) {
      L[32 * j + ii] = static_cast<uint8_t>(std::clamp(nearest_int((x[32 * j + ii] + dm) / d), 0, nmax));
    }
  }
}

void q4_K_row(const float* x, BlockQ4_K* y, int64_t n, const float* qw) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    k_affine_superblock(x, qw + kQK_K * i, 15, y[i], L, /*clamp_scales=*/false);
    uint8_t* q = y[i].qs;
    for (int j = 0; j < kQK_K; j += 64, q += 32) {
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
    }
  }
}

void q5_K_row(const float* x, BlockQ5_K* y, int64_t n, const float* qw) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    k_affine_superblock(x, qw + kQK_K * i, 31, y[i], L, /*clamp_scales=*/true);
    uint8_t* qh = y[i].qh;
    uint8_t* ql = y[i].qs;
    std::memset(qh, 0, kQK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int n0 = 0; n0 < kQK_K; n0 += 64, ql += 32) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[n0 + j], l2 = L[n0 + j + 32];
        if (l1 > 15) {
          l1 -= 16;
          qh[j] = static_cast<uint8_t>(qh[j] | m1);
        }
        if (l2 > 15) {
          l2 -= 16;
          qh[j] = static_cast<uint8_t>(qh[j] | m2);
        }
        ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
      m1 = static_cast<uint8_t>(m1 << 2);
      m2 = static_cast<uint8_t>(m2 << 2);
    }
  }
}

void q6_K_row(const float* x, BlockQ6_K* y, int64_t n, const float* qw) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float max_scale = 0.0f, max_abs_scale = 0.0f;
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      // The importance weights are used as they are here (no sigma² term), as in ggml.
      const float scale = make_qx_weighted(16, 32, x + 16 * ib, L + 16 * ib, qw + kQK_K * i + 16 * ib);
      scales[ib] = scale;
      if (std::fabs(scale) > max_abs_scale) {
        max_abs_scale = std::fabs(scale);
        max_scale = scale;
      }
    }
    ref::encode_q6_K(x, scales, max_scale, max_abs_scale, L, y[i]);
  }
}

// The typed row quantizers above behind one signature, for the dispatch table below.
using WeightedRowFn = void (*)(const float* x, void* y, int64_t n, const float* qw);

template <class Block, void (*Row)(const float*, Block*, int64_t, const float*)>
void untyped_row(const float* x, void* y, int64_t n, const float* qw) {
  Row(x, static_cast<Block*>(y), n, qw);
}

// The weighted quantizer of type t, or nullptr where ggml ignores importance weights.
WeightedRowFn weighted_row_fn(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0:
      return untyped_row<BlockQ4_0, q4_0_row>;
    case GgmlType::Q4_1:
      return untyped_row<BlockQ4_1, q4_1_row>;
    case GgmlType::Q5_0:
      return untyped_row<BlockQ5_0, q5_0_row>;
    case GgmlType::Q5_1:
      return untyped_row<BlockQ5_1, q5_1_row>;
    case GgmlType::Q2_K:
      return untyped_row<BlockQ2_K, q2_K_row>;
    case GgmlType::Q3_K:
      return untyped_row<BlockQ3_K, q3_K_row>;
    case GgmlType::Q4_K:
      return untyped_row<BlockQ4_K, q4_K_row>;
    case GgmlType::Q5_K:
      return untyped_row<BlockQ5_K, q5_K_row>;
    case GgmlType::Q6_K:
      return untyped_row<BlockQ6_K, q6_K_row>;
    default:
      return nullptr;
  }
}

}  // namespace

bool uses_importance_weights(GgmlType t) { return weighted_row_fn(t) != nullptr; }

void quantize_row_weighted(GgmlType t, const float* src, void* dst, int64_t n, const float* weights) {
  const WeightedRowFn row = weighted_row_fn(t);
  if (weights == nullptr || row == nullptr) return quantize_row(t, src, dst, n);
  row(src, dst, n, weights);
}

}  // namespace pocket
