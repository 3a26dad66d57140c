// SIMD activation conversion vs the scalar reference quantize_row: bit-exact on every target.

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <vector>

#include "kernels/simd/simd.h"
#include "kernels/simd/simd_test_util.h"
#include "tensor/quants.h"

namespace pocket::simd {
namespace {

using testing::PerTarget;
using testing::RandomRow;

class SimdQuantize : public PerTarget {};

void ExpectSameAsReference(GgmlType t, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> want(row_size(t, n), 0xAA);
  std::vector<uint8_t> got(row_size(t, n), 0x55);
  quantize_row(t, x.data(), want.data(), n);
  quantize_activation(t, x.data(), got.data(), n);
  ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size())) << traits(t).name << " n=" << n;
}

// Rows with blocks of every kind: random, all zero, constant, exact halves after scaling, ties for
// the largest magnitude with both signs, tiny and huge values.
std::vector<float> HardRow(int64_t n, uint32_t seed) {
  std::vector<float> x = RandomRow(n, seed);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t block = i / 256;
    const int64_t j = i % 256;
    switch (block % 6) {
      case 1:
        x[i] = 0.0f;
        break;
      case 2:
        x[i] = (j % 2 ? -1.0f : 1.0f) * 127.0f;  // first max positive, ties negative
        break;
      case 3:
        x[i] = static_cast<float>(j % 64) - 31.5f;  // halves after scaling by 127/amax
        break;
      case 4:
        x[i] *= 1e-30f;
        break;
      case 5:
        x[i] *= 1e30f;
        break;
      default:
        break;
    }
  }
  return x;
}

TEST_P(SimdQuantize, DispatchUsesForcedTarget) { EXPECT_EQ(GetParam(), dispatched_target()); }

TEST_P(SimdQuantize, Q8_0BitExact) {
  for (int64_t n : {32, 64, 1536, 2048 + 32}) ExpectSameAsReference(GgmlType::Q8_0, HardRow(n, 1 + n));
  ExpectSameAsReference(GgmlType::Q8_0, HardRow(6 * 256 * 4, 7));
}

TEST_P(SimdQuantize, Q8_1BitExact) {
  for (int64_t n : {32, 96, 1536}) ExpectSameAsReference(GgmlType::Q8_1, HardRow(n, 2 + n));
  ExpectSameAsReference(GgmlType::Q8_1, HardRow(6 * 256 * 4, 8));
}

TEST_P(SimdQuantize, Q8_KBitExact) {
  for (int64_t n : {256, 512, 1536, 6144}) ExpectSameAsReference(GgmlType::Q8_K, HardRow(n, 3 + n));
  ExpectSameAsReference(GgmlType::Q8_K, HardRow(6 * 256 * 4, 9));
}

TEST_P(SimdQuantize, F16BitExact) {
  std::vector<float> x = HardRow(6 * 256, 4);
  x.push_back(65504.0f);
  x.push_back(65520.0f);  // rounds to infinity
  x.push_back(std::numeric_limits<float>::infinity());
  x.push_back(5.96e-8f);  // subnormal half
  x.push_back(-0.0f);
  ExpectSameAsReference(GgmlType::F16, x);
}

TEST_P(SimdQuantize, BF16BitExact) {
  std::vector<float> x = HardRow(6 * 256, 5);
  x.push_back(std::numeric_limits<float>::quiet_NaN());
  x.push_back(std::numeric_limits<float>::infinity());
  x.push_back(1.00390625f);  // tie, rounds to even
  ExpectSameAsReference(GgmlType::BF16, x);
}

TEST_P(SimdQuantize, F32Copies) { ExpectSameAsReference(GgmlType::F32, HardRow(100, 6)); }

POCKET_INSTANTIATE_PER_TARGET(SimdQuantize);

}  // namespace
}  // namespace pocket::simd
