// SIMD f32 row operations vs the scalar formulas in kernels/ops.cpp, on every target.
// Bounds (in the test names): dot / axpy within 1e-5 of Σ|terms|; softcap and softmax within 2e-6
// relative (+1e-7 absolute) per element (Highway's tanh / exp are accurate to a few ulp); geglu the
// same plus 1e-6 absolute, because 1 + tanh(z) cancels for very negative gates in both versions.

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/ops.h"
#include "kernels/simd/simd.h"
#include "kernels/simd/simd_test_util.h"

namespace pocket::simd {
namespace {

using testing::PerTarget;
using testing::RandomRow;

class SimdVecOps : public PerTarget {};

constexpr int64_t kLengths[] = {1, 7, 16, 33, 256, 1000, 6144};

TEST_P(SimdVecOps, DotWithin1em5OfAbsSum) {
  for (int64_t n : kLengths) {
    const auto a = RandomRow(n, 1), b = RandomRow(n, 2);
    double abs_sum = 0;
    for (int64_t i = 0; i < n; ++i) abs_sum += std::fabs(static_cast<double>(a[i]) * b[i]);
    EXPECT_NEAR(dot_f32(a.data(), b.data(), n), ops::dot_f32_ref(a.data(), b.data(), n), 1e-5 * abs_sum) << n;
  }
}

TEST_P(SimdVecOps, AxpyWithin1em5) {
  for (int64_t n : kLengths) {
    const auto x = RandomRow(n, 3);
    auto y = RandomRow(n, 4);
    auto want = y;
    axpy(0.37f, x.data(), y.data(), n);
    ops::axpy_ref(0.37f, x.data(), want.data(), n);
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(y[i], want[i], 1e-5 * (std::fabs(want[i]) + 1)) << i;
  }
}

void ExpectRelClose(const std::vector<float>& got, const std::vector<float>& want, const char* what,
                    double abs_tol = 1e-7) {
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 2e-6 * std::fabs(want[i]) + abs_tol) << what << " i=" << i;
  }
}

TEST_P(SimdVecOps, GegluRel2em6Abs1em6) {
  for (int64_t n : kLengths) {
    auto gate = RandomRow(n, 5, 3.0f);
    const auto up = RandomRow(n, 6);
    std::vector<float> got(static_cast<size_t>(n)), want(static_cast<size_t>(n));
    geglu(gate.data(), up.data(), n, got.data());
    ops::geglu(gate.data(), up.data(), n, want.data());
    ExpectRelClose(got, want, "geglu", 1e-6);
  }
}

TEST_P(SimdVecOps, SoftcapRel2em6) {
  for (int64_t n : kLengths) {
    auto got = RandomRow(n, 7, 40.0f);
    auto want = got;
    softcap(got.data(), n, 30.0f);
    ops::softcap(want.data(), n, 30.0f);
    ExpectRelClose(got, want, "softcap");
  }
}

TEST_P(SimdVecOps, SoftmaxRel2em6) {
  for (int64_t n : kLengths) {
    auto got = RandomRow(n, 8, 5.0f);
    auto want = got;
    softmax(got.data(), n);
    ops::softmax(want.data(), n);
    ExpectRelClose(got, want, "softmax");
  }
}

POCKET_INSTANTIATE_PER_TARGET(SimdVecOps);

}  // namespace
}  // namespace pocket::simd
