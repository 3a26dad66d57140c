// Shared helpers of the SIMD kernel tests: run each test once per instruction set compiled into
// the binary (and supported by this CPU), and build random rows the way models look.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/simd/simd.h"
#include "tensor/ggml_type.h"
#include "tensor/quants.h"

namespace pocket::simd::testing {

// Fixture parameterized by a Highway target; dispatch is forced to it for the test's duration.
class PerTarget : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override { force_target(GetParam()); }
  void TearDown() override { force_target(0); }
};

inline std::string TargetParamName(const ::testing::TestParamInfo<int64_t>& info) { return target_name(info.param); }

#define POCKET_INSTANTIATE_PER_TARGET(fixture)                                                         \
  INSTANTIATE_TEST_SUITE_P(Targets, fixture, ::testing::ValuesIn(::pocket::simd::available_targets()), \
                           ::pocket::simd::testing::TargetParamName)

// Gaussian values with a few outliers and exact zeros / ties, like activations or weights.
inline std::vector<float> RandomRow(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::uniform_int_distribution<int> pick(0, 99);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) {
    const int p = pick(rng);
    x = normal(rng);
    if (p == 0) x *= 20.0f;                 // outlier
    if (p == 1) x = 0.0f;                   // exact zero
    if (p == 2) x = std::round(x * 4) / 4;  // halves after scaling are likelier
  }
  return v;
}

// A weight row of type t (n elements) quantized from RandomRow by the reference quantizer.
inline std::vector<uint8_t> RandomWeights(GgmlType t, int64_t n, uint32_t seed) {
  std::vector<float> f = RandomRow(n, seed, 0.05f);
  std::vector<uint8_t> q(row_size(t, n));
  quantize_row(t, f.data(), q.data(), n);
  return q;
}

// An activation row converted to vec_dot_type(w) by the reference.
inline std::vector<uint8_t> RandomActivations(GgmlType w, int64_t n, uint32_t seed) {
  const GgmlType xt = vec_dot_type(w);
  std::vector<float> f = RandomRow(n, seed);
  std::vector<uint8_t> q(row_size(xt, n));
  quantize_row(xt, f.data(), q.data(), n);
  return q;
}

}  // namespace pocket::simd::testing
