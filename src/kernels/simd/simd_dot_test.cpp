// SIMD dot products / decode products vs the scalar reference vec_dot_ref, on every target.
//  - Legacy formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0): bit-exact.
//  - K formats and F32 / F16 / BF16: the float sums run in another order (and with FMA), so the
//    bound is relative to the magnitude of the sum: |got - want| <= 2e-5 * Σ|w_i x_i| (+1e-30).
//    The test names say "RelTol2em5" for that bound.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/simd/simd.h"
#include "kernels/simd/simd_test_util.h"
#include "tensor/quants.h"

namespace pocket::simd {
namespace {

using testing::PerTarget;
using testing::RandomActivations;
using testing::RandomWeights;

class SimdDot : public PerTarget {};

constexpr GgmlType kLegacy[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0};
constexpr GgmlType kToleranced[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q2_K,
                                    GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};
constexpr double kRelTol = 2e-5;

// Σ|w_i x_i| over the decoded rows: the scale of the rounding error of any summation order.
double AbsSum(GgmlType w, const uint8_t* wrow, const uint8_t* xrow, int64_t n) {
  std::vector<float> wf(static_cast<size_t>(n)), xf(static_cast<size_t>(n));
  dequantize_row(w, wrow, wf.data(), n);
  dequantize_row(vec_dot_type(w), xrow, xf.data(), n);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::fabs(static_cast<double>(wf[i]) * xf[i]);
  return s;
}

void ExpectClose(GgmlType w, float got, float want, double abs_sum, const char* what) {
  EXPECT_NEAR(got, want, kRelTol * abs_sum + 1e-30) << traits(w).name << " " << what;
}

TEST_P(SimdDot, LegacyFormatsBitExact) {
  for (GgmlType w : kLegacy) {
    for (int64_t n : {32, 64, 96, 1536, 2048, 6144}) {
      for (uint32_t seed = 0; seed < 3; ++seed) {
        const auto wr = RandomWeights(w, n, 100 + seed + static_cast<uint32_t>(n));
        const auto xr = RandomActivations(w, n, 200 + seed + static_cast<uint32_t>(n));
        const float want = vec_dot_ref(w, wr.data(), xr.data(), n);
        const float got = vec_dot(w, wr.data(), xr.data(), n);
        EXPECT_EQ(std::bit_cast<uint32_t>(want), std::bit_cast<uint32_t>(got))
            << traits(w).name << " n=" << n << " want " << want << " got " << got;
      }
    }
  }
}

TEST_P(SimdDot, KAndFloatFormatsRelTol2em5) {
  for (GgmlType w : kToleranced) {
    for (int64_t n : {256, 512, 1536, 6144}) {
      for (uint32_t seed = 0; seed < 3; ++seed) {
        const auto wr = RandomWeights(w, n, 300 + seed + static_cast<uint32_t>(n));
        const auto xr = RandomActivations(w, n, 400 + seed + static_cast<uint32_t>(n));
        ExpectClose(w, vec_dot(w, wr.data(), xr.data(), n), vec_dot_ref(w, wr.data(), xr.data(), n),
                    AbsSum(w, wr.data(), xr.data(), n), "vec_dot");
      }
    }
  }
}

// Float rows of any length (not a multiple of the vector width).
TEST_P(SimdDot, FloatRowsOddLengthRelTol2em5) {
  for (GgmlType w : {GgmlType::F32, GgmlType::F16, GgmlType::BF16}) {
    for (int64_t n : {1, 7, 33, 1000}) {
      const auto wr = RandomWeights(w, n, 5);
      const auto xr = RandomActivations(w, n, 6);
      ExpectClose(w, vec_dot(w, wr.data(), xr.data(), n), vec_dot_ref(w, wr.data(), xr.data(), n),
                  AbsSum(w, wr.data(), xr.data(), n), "odd length");
    }
  }
}

// matvec_rows over a row range that is not a multiple of the row group, several tokens.
void CheckMatvec(GgmlType w, bool exact) {
  const int64_t cols = 512, rows = 37, n_tok = 3, r0 = 3, r1 = 36;
  const size_t rb = row_size(w, cols);
  std::vector<uint8_t> wm(rb * rows);
  for (int64_t r = 0; r < rows; ++r) {
    const auto row = RandomWeights(w, cols, 500 + static_cast<uint32_t>(r));
    std::memcpy(wm.data() + rb * r, row.data(), rb);
  }
  const size_t xb = row_size(vec_dot_type(w), cols);
  std::vector<uint8_t> xm(xb * n_tok);
  for (int64_t t = 0; t < n_tok; ++t) {
    const auto row = RandomActivations(w, cols, 600 + static_cast<uint32_t>(t));
    std::memcpy(xm.data() + xb * t, row.data(), xb);
  }
  const int64_t y_stride = rows + 5;
  std::vector<float> y(static_cast<size_t>(y_stride * n_tok), -1.0f);
  matvec_rows({w, wm.data(), cols, rows, rb}, r0, r1, {xm.data(), xb, n_tok}, y.data(), y_stride);
  for (int64_t t = 0; t < n_tok; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      const float got = y[t * y_stride + r];
      if (r < r0 || r >= r1) {
        EXPECT_EQ(got, -1.0f) << "row outside the range was written";
        continue;
      }
      const uint8_t* wr = wm.data() + rb * r;
      const uint8_t* xr = xm.data() + xb * t;
      const float want = vec_dot_ref(w, wr, xr, cols);
      if (exact) {
        EXPECT_EQ(std::bit_cast<uint32_t>(want), std::bit_cast<uint32_t>(got)) << traits(w).name << " r=" << r;
      } else {
        ExpectClose(w, got, want, AbsSum(w, wr, xr, cols), "matvec_rows");
      }
    }
  }
}

TEST_P(SimdDot, MatvecRowsLegacyBitExact) {
  for (GgmlType w : kLegacy) CheckMatvec(w, true);
}

TEST_P(SimdDot, MatvecRowsKAndFloatRelTol2em5) {
  for (GgmlType w : kToleranced) CheckMatvec(w, false);
}

POCKET_INSTANTIATE_PER_TARGET(SimdDot);

}  // namespace
}  // namespace pocket::simd
