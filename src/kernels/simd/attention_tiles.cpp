// SIMD kernels of tiled (prefill) attention. A tile is a block of query rows (the heads of a few
// tokens that share one KV head) laid out with the rows in vector lanes, so no kernel needs a
// horizontal sum:
//  - score_tile: scores Sᵀ[key][row] = K · Qᵀ from Qᵀ [dim][row] — a broadcast key value times a
//    vector of rows; each Qᵀ load serves 4 keys and each key value 2 vectors of rows;
//  - softmax_cols: per row (vector lane) a masked online softmax over a block of keys (running
//    max and sum), the 1/Σ left to the caller (applied once per output row, not per probability);
//  - weighted_sum_cols: Y[row][:] += Σ_key Pᵀ[key][row] · V[key][:] with 4 rows × 2 vectors of
//    accumulators held in registers across the keys of a call.
// They match the scalar references in kernels/ops.cpp (score_tile_ref, ...) to a relative
// tolerance: sums run in another order and exp is Highway's polynomial (see
// simd_attention_tiles_test.cpp).

#include "kernels/simd/hwy_config.h"

// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/attention_tiles.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include <algorithm>
#include <cmath>

#include "hwy/cache_control.h"
#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"
#include "kernels/ops.h"
#include "kernels/simd/attention_tiles.h"

HWY_BEFORE_NAMESPACE();
namespace pocket::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_SCALAR

// The scalar target runs the references.
void GatherCols(const float* x, const int32_t* row_offset, int64_t rows, int64_t n, float* xt, int64_t ldt) {
  ops::gather_cols_ref(x, row_offset, rows, n, xt, ldt);
}
void ScoreTile(const float* qt, int64_t ldq, int64_t rows, const float* k, int64_t k_stride, int64_t n_keys, int64_t n,
               float* st, int64_t lds) {
  ops::score_tile_ref(qt, ldq, rows, k, k_stride, n_keys, n, st, lds);
}
void SoftmaxCols(float* st, int64_t lds, int64_t rows, const int32_t* first, const int32_t* last, int64_t j0,
                 int64_t j1, float* row_max, float* row_sum, float* rescale) {
  ops::softmax_cols_ref(st, lds, rows, first, last, j0, j1, row_max, row_sum, rescale);
}
void WeightedSumCols(const float* pt, int64_t ldp, int64_t rows, const float* v, int64_t v_stride, int64_t n_keys,
                     float* y, int64_t y_stride, int64_t n) {
  ops::weighted_sum_cols_ref(pt, ldp, rows, v, v_stride, n_keys, y, y_stride, n);
}

#else

using DF = hn::ScalableTag<float>;
using DI = hn::RebindToSigned<DF>;

// Qᵀ from query rows anywhere in the batch, 4 × 4 blocks transposed in 128-bit registers (4 loads,
// 8 shuffles, 4 stores per 16 values; gathers are slower on current x86 cores).
void GatherCols(const float* x, const int32_t* row_offset, int64_t rows, int64_t n, float* xt, int64_t ldt) {
  const hn::Full128<float> d4;
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* x0 = x + row_offset[r];
    const float* x1 = x + row_offset[r + 1];
    const float* x2 = x + row_offset[r + 2];
    const float* x3 = x + row_offset[r + 3];
    int64_t c = 0;
    for (; c + 4 <= n; c += 4) {
      const auto a = hn::LoadU(d4, x0 + c), b = hn::LoadU(d4, x1 + c);
      const auto e = hn::LoadU(d4, x2 + c), f = hn::LoadU(d4, x3 + c);
      const auto ab_lo = hn::InterleaveLower(d4, a, b), ef_lo = hn::InterleaveLower(d4, e, f);  // a0 b0 a1 b1
      const auto ab_hi = hn::InterleaveUpper(d4, a, b), ef_hi = hn::InterleaveUpper(d4, e, f);  // a2 b2 a3 b3
      hn::StoreU(hn::ConcatLowerLower(d4, ef_lo, ab_lo), d4, xt + c * ldt + r);                 // a0 b0 e0 f0
      hn::StoreU(hn::ConcatUpperUpper(d4, ef_lo, ab_lo), d4, xt + (c + 1) * ldt + r);
      hn::StoreU(hn::ConcatLowerLower(d4, ef_hi, ab_hi), d4, xt + (c + 2) * ldt + r);
      hn::StoreU(hn::ConcatUpperUpper(d4, ef_hi, ab_hi), d4, xt + (c + 3) * ldt + r);
    }
    for (; c < n; ++c) {
      xt[c * ldt + r] = x0[c];
      xt[c * ldt + r + 1] = x1[c];
      xt[c * ldt + r + 2] = x2[c];
      xt[c * ldt + r + 3] = x3[c];
    }
  }
  for (; r < rows; ++r) {
    for (int64_t c = 0; c < n; ++c) xt[c * ldt + r] = x[row_offset[r] + c];
  }
}

// One rank-1 update of a 4-row × 2-vector tile: a_r0 += s_r · x0, a_r1 += s_r · x1 (the score and P·V
// tiles both multiply 2 loaded vectors by 4 broadcasts per step).
template <class V>
HWY_INLINE void Rank1Tile4x2(V s0, V s1, V s2, V s3, V x0, V x1, V& a00, V& a01, V& a10, V& a11, V& a20, V& a21, V& a30,
                             V& a31) {
  a00 = hn::MulAdd(x0, s0, a00);
  a01 = hn::MulAdd(x1, s0, a01);
  a10 = hn::MulAdd(x0, s1, a10);
  a11 = hn::MulAdd(x1, s1, a11);
  a20 = hn::MulAdd(x0, s2, a20);
  a21 = hn::MulAdd(x1, s2, a21);
  a30 = hn::MulAdd(x0, s3, a30);
  a31 = hn::MulAdd(x1, s3, a31);
}

// Stores a 4-row × 2-vector tile, row r at p_r.
template <class V>
HWY_INLINE void StoreTile4x2(DF d, V a00, V a01, V a10, V a11, V a20, V a21, V a30, V a31, float* p0, float* p1,
                             float* p2, float* p3) {
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  hn::StoreU(a00, d, p0);
  hn::StoreU(a01, d, p0 + N);
  hn::StoreU(a10, d, p1);
  hn::StoreU(a11, d, p1 + N);
  hn::StoreU(a20, d, p2);
  hn::StoreU(a21, d, p2 + N);
  hn::StoreU(a30, d, p3);
  hn::StoreU(a31, d, p3 + N);
}

// Sᵀ for 2·N rows starting at qt and 4 keys: 8 accumulators; per dimension 2 loads of Qᵀ and 4 key
// broadcasts feed 8 multiply-adds.
HWY_INLINE void ScoreBlock2x4(DF d, const float* qt, int64_t ldq, const float* k, int64_t k_stride, int64_t n,
                              float* st, int64_t lds, bool prefetch_next) {
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const float* k0 = k;
  const float* k1 = k0 + k_stride;
  const float* k2 = k1 + k_stride;
  const float* k3 = k2 + k_stride;
  auto a00 = hn::Zero(d), a01 = hn::Zero(d), a10 = hn::Zero(d), a11 = hn::Zero(d);
  auto a20 = hn::Zero(d), a21 = hn::Zero(d), a30 = hn::Zero(d), a31 = hn::Zero(d);
  for (int64_t c = 0; c < n; ++c) {
    if (prefetch_next && (c & 15) == 0) {  // the next 4 keys' rows, a line at a time: long contexts come from DRAM
      hwy::Prefetch(k0 + 4 * k_stride + c);
      hwy::Prefetch(k1 + 4 * k_stride + c);
      hwy::Prefetch(k2 + 4 * k_stride + c);
      hwy::Prefetch(k3 + 4 * k_stride + c);
    }
    const auto q0 = hn::LoadU(d, qt + c * ldq), q1 = hn::LoadU(d, qt + c * ldq + N);
    const auto b0 = hn::Set(d, k0[c]), b1 = hn::Set(d, k1[c]), b2 = hn::Set(d, k2[c]), b3 = hn::Set(d, k3[c]);
    Rank1Tile4x2(b0, b1, b2, b3, q0, q1, a00, a01, a10, a11, a20, a21, a30, a31);
  }
  StoreTile4x2(d, a00, a01, a10, a11, a20, a21, a30, a31, st, st + lds, st + 2 * lds, st + 3 * lds);
}

// One vector of rows against 4 keys (a tile of a single vector of rows, e.g. one decode token's heads).
HWY_INLINE void ScoreBlock1x4(DF d, const float* qt, int64_t ldq, const float* k, int64_t k_stride, int64_t n,
                              float* st, int64_t lds) {
  const float* k0 = k;
  const float* k1 = k0 + k_stride;
  const float* k2 = k1 + k_stride;
  const float* k3 = k2 + k_stride;
  auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
  for (int64_t c = 0; c < n; ++c) {
    const auto qv = hn::LoadU(d, qt + c * ldq);
    a0 = hn::MulAdd(qv, hn::Set(d, k0[c]), a0);
    a1 = hn::MulAdd(qv, hn::Set(d, k1[c]), a1);
    a2 = hn::MulAdd(qv, hn::Set(d, k2[c]), a2);
    a3 = hn::MulAdd(qv, hn::Set(d, k3[c]), a3);
  }
  hn::StoreU(a0, d, st);
  hn::StoreU(a1, d, st + lds);
  hn::StoreU(a2, d, st + 2 * lds);
  hn::StoreU(a3, d, st + 3 * lds);
}

// One vector of rows against one key (the leftovers of the blocks above).
HWY_INLINE void ScoreBlock1x1(DF d, const float* qt, int64_t ldq, const float* k, int64_t n, float* st) {
  auto a0 = hn::Zero(d), a1 = hn::Zero(d);
  int64_t c = 0;
  for (; c + 2 <= n; c += 2) {  // two chains so the multiply-adds overlap
    a0 = hn::MulAdd(hn::LoadU(d, qt + c * ldq), hn::Set(d, k[c]), a0);
    a1 = hn::MulAdd(hn::LoadU(d, qt + (c + 1) * ldq), hn::Set(d, k[c + 1]), a1);
  }
  if (c < n) a0 = hn::MulAdd(hn::LoadU(d, qt + c * ldq), hn::Set(d, k[c]), a0);
  hn::StoreU(hn::Add(a0, a1), d, st);
}

void ScoreTile(const float* qt, int64_t ldq, int64_t rows, const float* k, int64_t k_stride, int64_t n_keys, int64_t n,
               float* st, int64_t lds) {
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t r = 0;
  for (; r + 2 * N <= rows; r += 2 * N) {
    int64_t j = 0;
    for (; j + 4 <= n_keys; j += 4) {
      ScoreBlock2x4(d, qt + r, ldq, k + j * k_stride, k_stride, n, st + j * lds + r, lds, j + 8 <= n_keys);
    }
    for (; j < n_keys; ++j) {
      ScoreBlock1x1(d, qt + r, ldq, k + j * k_stride, n, st + j * lds + r);
      ScoreBlock1x1(d, qt + r + N, ldq, k + j * k_stride, n, st + j * lds + r + N);
    }
  }
  for (; r < rows; r += N) {  // whole vectors: the buffers cover round_up(rows, 16) rows
    int64_t j = 0;
    for (; j + 4 <= n_keys; j += 4) ScoreBlock1x4(d, qt + r, ldq, k + j * k_stride, k_stride, n, st + j * lds + r, lds);
    for (; j < n_keys; ++j) ScoreBlock1x1(d, qt + r, ldq, k + j * k_stride, n, st + j * lds + r);
  }
}

void SoftmaxCols(float* st, int64_t lds, int64_t rows, const int32_t* first, const int32_t* last, int64_t j0,
                 int64_t j1, float* row_max, float* row_sum, float* rescale) {
  const DF d;
  const DI di;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const auto neg_inf = hn::Set(d, -HUGE_VALF);
  for (int64_t r = 0; r < rows; r += N) {
    // first ≤ j ≤ last as strict compares (Highway 1.0 has no integer Le).
    const auto vfirst = hn::Sub(hn::LoadU(di, first + r), hn::Set(di, 1));
    const auto vlast = hn::Add(hn::LoadU(di, last + r), hn::Set(di, 1));
    const auto old_max = hn::LoadU(d, row_max + r);
    auto vmax = old_max;
    for (int64_t j = j0; j < j1; ++j) {
      const auto vj = hn::Set(di, static_cast<int32_t>(j));
      const auto in = hn::RebindMask(d, hn::And(hn::Lt(vfirst, vj), hn::Lt(vj, vlast)));
      vmax = hn::IfThenElse(in, hn::Max(vmax, hn::LoadU(d, st + (j - j0) * lds + r)), vmax);
    }
    auto vsum = hn::Zero(d);
    for (int64_t j = j0; j < j1; ++j) {
      const auto vj = hn::Set(di, static_cast<int32_t>(j));
      const auto in = hn::RebindMask(d, hn::And(hn::Lt(vfirst, vj), hn::Lt(vj, vlast)));
      float* x = st + (j - j0) * lds + r;
      // Keys outside a row's range may hold anything finite; their exp is computed and dropped.
      const auto e = hn::IfThenElseZero(in, hn::Exp(d, hn::Sub(hn::LoadU(d, x), vmax)));
      hn::StoreU(e, d, x);
      vsum = hn::Add(vsum, e);
    }
    // exp(old − new): 0 for a row's first keys (old = −∞, kept out of Exp), 1 while it has none.
    const auto seen_before = hn::Gt(old_max, neg_inf), seen_now = hn::Gt(vmax, neg_inf);
    const auto alpha = hn::IfThenElse(
        seen_now,
        hn::IfThenElseZero(seen_before, hn::Exp(d, hn::Sub(hn::IfThenElse(seen_before, old_max, vmax), vmax))),
        hn::Set(d, 1.0f));
    hn::StoreU(alpha, d, rescale + r);
    hn::StoreU(hn::MulAdd(hn::LoadU(d, row_sum + r), alpha, vsum), d, row_sum + r);
    hn::StoreU(vmax, d, row_max + r);
  }
}

// 4 rows × 2 vectors of Y starting at y (rows y_stride apart) += Σ_j Pᵀ[j][0..4) · V[j][0..2N).
HWY_INLINE void WeightedSum4x2(DF d, const float* pt, int64_t ldp, const float* v, int64_t v_stride, int64_t n_keys,
                               float* y, int64_t y_stride) {
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  float* y0 = y;
  float* y1 = y0 + y_stride;
  float* y2 = y1 + y_stride;
  float* y3 = y2 + y_stride;
  auto a00 = hn::LoadU(d, y0), a01 = hn::LoadU(d, y0 + N);
  auto a10 = hn::LoadU(d, y1), a11 = hn::LoadU(d, y1 + N);
  auto a20 = hn::LoadU(d, y2), a21 = hn::LoadU(d, y2 + N);
  auto a30 = hn::LoadU(d, y3), a31 = hn::LoadU(d, y3 + N);
  for (int64_t j = 0; j < n_keys; ++j) {
    const float* vj = v + j * v_stride;
    const float* pj = pt + j * ldp;
    const auto v0 = hn::LoadU(d, vj), v1 = hn::LoadU(d, vj + N);
    const auto p0 = hn::Set(d, pj[0]), p1 = hn::Set(d, pj[1]), p2 = hn::Set(d, pj[2]), p3 = hn::Set(d, pj[3]);
    Rank1Tile4x2(p0, p1, p2, p3, v0, v1, a00, a01, a10, a11, a20, a21, a30, a31);
  }
  StoreTile4x2(d, a00, a01, a10, a11, a20, a21, a30, a31, y0, y1, y2, y3);
}

#if HWY_TARGET <= HWY_AVX3
// AVX-512 (32 registers): 4 rows × 4 vectors, 16 accumulators, so the multiply-add latency is hidden
// twice over; per key 4 loads of V and 4 broadcasts feed 16 multiply-adds.
HWY_INLINE void WeightedSum4x4(DF d, const float* pt, int64_t ldp, const float* v, int64_t v_stride, int64_t n_keys,
                               float* y, int64_t y_stride) {
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  float* y0 = y;
  float* y1 = y0 + y_stride;
  float* y2 = y1 + y_stride;
  float* y3 = y2 + y_stride;
  auto a00 = hn::LoadU(d, y0), a01 = hn::LoadU(d, y0 + N), a02 = hn::LoadU(d, y0 + 2 * N),
       a03 = hn::LoadU(d, y0 + 3 * N);
  auto a10 = hn::LoadU(d, y1), a11 = hn::LoadU(d, y1 + N), a12 = hn::LoadU(d, y1 + 2 * N),
       a13 = hn::LoadU(d, y1 + 3 * N);
  auto a20 = hn::LoadU(d, y2), a21 = hn::LoadU(d, y2 + N), a22 = hn::LoadU(d, y2 + 2 * N),
       a23 = hn::LoadU(d, y2 + 3 * N);
  auto a30 = hn::LoadU(d, y3), a31 = hn::LoadU(d, y3 + N), a32 = hn::LoadU(d, y3 + 2 * N),
       a33 = hn::LoadU(d, y3 + 3 * N);
  for (int64_t j = 0; j < n_keys; ++j) {
    const float* vj = v + j * v_stride;
    const float* pj = pt + j * ldp;
    const auto v0 = hn::LoadU(d, vj), v1 = hn::LoadU(d, vj + N), v2 = hn::LoadU(d, vj + 2 * N),
               v3 = hn::LoadU(d, vj + 3 * N);
    const auto p0 = hn::Set(d, pj[0]), p1 = hn::Set(d, pj[1]), p2 = hn::Set(d, pj[2]), p3 = hn::Set(d, pj[3]);
    a00 = hn::MulAdd(p0, v0, a00);
    a01 = hn::MulAdd(p0, v1, a01);
    a02 = hn::MulAdd(p0, v2, a02);
    a03 = hn::MulAdd(p0, v3, a03);
    a10 = hn::MulAdd(p1, v0, a10);
    a11 = hn::MulAdd(p1, v1, a11);
    a12 = hn::MulAdd(p1, v2, a12);
    a13 = hn::MulAdd(p1, v3, a13);
    a20 = hn::MulAdd(p2, v0, a20);
    a21 = hn::MulAdd(p2, v1, a21);
    a22 = hn::MulAdd(p2, v2, a22);
    a23 = hn::MulAdd(p2, v3, a23);
    a30 = hn::MulAdd(p3, v0, a30);
    a31 = hn::MulAdd(p3, v1, a31);
    a32 = hn::MulAdd(p3, v2, a32);
    a33 = hn::MulAdd(p3, v3, a33);
  }
  hn::StoreU(a00, d, y0);
  hn::StoreU(a01, d, y0 + N);
  hn::StoreU(a02, d, y0 + 2 * N);
  hn::StoreU(a03, d, y0 + 3 * N);
  hn::StoreU(a10, d, y1);
  hn::StoreU(a11, d, y1 + N);
  hn::StoreU(a12, d, y1 + 2 * N);
  hn::StoreU(a13, d, y1 + 3 * N);
  hn::StoreU(a20, d, y2);
  hn::StoreU(a21, d, y2 + N);
  hn::StoreU(a22, d, y2 + 2 * N);
  hn::StoreU(a23, d, y2 + 3 * N);
  hn::StoreU(a30, d, y3);
  hn::StoreU(a31, d, y3 + N);
  hn::StoreU(a32, d, y3 + 2 * N);
  hn::StoreU(a33, d, y3 + 3 * N);
}
#endif

// Columns outer, rows inner: the keys' slice of V for one column chunk (n_keys × 2 vectors) stays in
// L1 while every row block reads it, so V comes from L2 once per call.
void WeightedSumCols(const float* pt, int64_t ldp, int64_t rows, const float* v, int64_t v_stride, int64_t n_keys,
                     float* y, int64_t y_stride, int64_t n) {
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t c = 0;
#if HWY_TARGET <= HWY_AVX3
  for (; c + 4 * N <= n; c += 4 * N) {
    // The next column chunk's lines of every key (strided rows: long contexts come from DRAM).
    for (int64_t j = 0; j < n_keys; ++j) {
      for (int64_t l = c + 4 * N; l < std::min(n, c + 8 * N); l += 16) hwy::Prefetch(v + j * v_stride + l);
    }
    for (int64_t r = 0; r < rows; r += 4) {
      WeightedSum4x4(d, pt + r, ldp, v + c, v_stride, n_keys, y + r * y_stride + c, y_stride);
    }
  }
#endif
  for (; c + 2 * N <= n; c += 2 * N) {
    for (int64_t j = 0; j < n_keys; ++j) {
      for (int64_t l = c + 2 * N; l < std::min(n, c + 4 * N); l += 16) hwy::Prefetch(v + j * v_stride + l);
    }
    for (int64_t r = 0; r < rows; r += 4) {  // rows is a multiple of 4
      WeightedSum4x2(d, pt + r, ldp, v + c, v_stride, n_keys, y + r * y_stride + c, y_stride);
    }
  }
  for (; c < n; ++c) {  // head sizes that are not a multiple of 2 vectors
    for (int64_t r = 0; r < rows; ++r) {
      float acc = y[r * y_stride + c];
      for (int64_t j = 0; j < n_keys; ++j) acc += pt[j * ldp + r] * v[j * v_stride + c];
      y[r * y_stride + c] = acc;
    }
  }
}

#endif  // HWY_TARGET == HWY_SCALAR

}  // namespace pocket::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace pocket::simd {

HWY_EXPORT(GatherCols);
HWY_EXPORT(ScoreTile);
HWY_EXPORT(SoftmaxCols);
HWY_EXPORT(WeightedSumCols);

void gather_cols(const float* x, const int32_t* row_offset, int64_t rows, int64_t n, float* xt, int64_t ldt) {
  HWY_DYNAMIC_DISPATCH(GatherCols)(x, row_offset, rows, n, xt, ldt);
}
void score_tile(const float* qt, int64_t ldq, int64_t rows, const float* k, int64_t k_stride, int64_t n_keys, int64_t n,
                float* st, int64_t lds) {
  HWY_DYNAMIC_DISPATCH(ScoreTile)(qt, ldq, rows, k, k_stride, n_keys, n, st, lds);
}
void softmax_cols(float* st, int64_t lds, int64_t rows, const int32_t* first, const int32_t* last, int64_t j0,
                  int64_t j1, float* row_max, float* row_sum, float* rescale) {
  HWY_DYNAMIC_DISPATCH(SoftmaxCols)(st, lds, rows, first, last, j0, j1, row_max, row_sum, rescale);
}
void weighted_sum_cols(const float* pt, int64_t ldp, int64_t rows, const float* v, int64_t v_stride, int64_t n_keys,
                       float* y, int64_t y_stride, int64_t n) {
  HWY_DYNAMIC_DISPATCH(WeightedSumCols)(pt, ldp, rows, v, v_stride, n_keys, y, y_stride, n);
}

}  // namespace pocket::simd
#endif  // HWY_ONCE
