// The dispatched (SIMD) element-wise ops against their scalar references.
#include "kernels/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace pocket::ops {
namespace {

std::vector<float> random_vec(size_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

TEST(Ops, SimdMatchesScalarReferenceWithinRel1e_5) {
  for (size_t n : {1u, 7u, 64u, 1000u, 4099u}) {
    const auto a = random_vec(n, 3.0f, 1), b = random_vec(n, 3.0f, 2);
    double abs_dot = 0;
    for (size_t i = 0; i < n; ++i) abs_dot += std::fabs(a[i] * b[i]);
    EXPECT_NEAR(dot_f32(a.data(), b.data(), static_cast<int64_t>(n)), dot_f32_ref(a.data(), b.data(), static_cast<int64_t>(n)),
                1e-5 * abs_dot + 1e-6);
    std::vector<float> y1(n), y2(n);
    geglu(a.data(), b.data(), static_cast<int64_t>(n), y1.data());
    geglu_ref(a.data(), b.data(), static_cast<int64_t>(n), y2.data());
    for (size_t i = 0; i < n; ++i) EXPECT_NEAR(y1[i], y2[i], 1e-5 * std::fabs(y2[i]) + 1e-5);
    auto s1 = a, s2 = a;
    softcap(s1.data(), static_cast<int64_t>(n), 30.0f);
    softcap_ref(s2.data(), static_cast<int64_t>(n), 30.0f);
    for (size_t i = 0; i < n; ++i) EXPECT_NEAR(s1[i], s2[i], 1e-5 * std::fabs(s2[i]) + 1e-6);
    s1 = a, s2 = a;
    softmax(s1.data(), static_cast<int64_t>(n));
    softmax_ref(s2.data(), static_cast<int64_t>(n));
    for (size_t i = 0; i < n; ++i) EXPECT_NEAR(s1[i], s2[i], 1e-5 * s2[i] + 1e-7);
    auto y3 = b, y4 = b;
    axpy(0.37f, a.data(), y3.data(), static_cast<int64_t>(n));
    axpy_ref(0.37f, a.data(), y4.data(), static_cast<int64_t>(n));
    for (size_t i = 0; i < n; ++i) EXPECT_NEAR(y3[i], y4[i], 1e-5 * (std::fabs(y4[i]) + 1.0f));
  }
}

}  // namespace
}  // namespace pocket::ops
