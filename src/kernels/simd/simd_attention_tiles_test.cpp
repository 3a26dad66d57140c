// SIMD tiled-attention kernels vs the scalar references in kernels/ops.cpp, on every target.
// Bounds (in the test names): scores and P·V within 1e-5 of Σ|terms| (sums reassociated, fused
// multiply-adds); softmax probabilities within 2e-6 relative (+1e-7 absolute) and 1/Σ within 1e-5
// relative (Highway's exp is accurate to a few ulp; Σ runs in float lanes, not double).

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/ops.h"
#include "kernels/simd/attention_tiles.h"
#include "kernels/simd/simd_test_util.h"

namespace pocket::simd {
namespace {

using testing::PerTarget;
using testing::RandomRow;

class SimdAttentionTiles : public PerTarget {};

TEST_P(SimdAttentionTiles, ScoreTileWithin1em5OfAbsSum) {
  for (int64_t rows : {16, 32, 48, 64}) {
    for (int64_t n : {7, 64, 256, 512}) {
      for (int64_t keys : {1, 3, 4, 9, 37}) {
        const int64_t ldq = rows + 3, k_stride = n + 5, lds = rows + 1;
        const auto qt = RandomRow(n * ldq, 1), k = RandomRow(keys * k_stride, 2);
        std::vector<float> got(keys * lds, -7.0f), want(keys * lds, -7.0f);
        score_tile(qt.data(), ldq, rows, k.data(), k_stride, keys, n, got.data(), lds);
        ops::score_tile_ref(qt.data(), ldq, rows, k.data(), k_stride, keys, n, want.data(), lds);
        for (int64_t j = 0; j < keys; ++j) {
          for (int64_t r = 0; r < lds; ++r) {
            double abs_sum = 0;
            for (int64_t c = 0; r < rows && c < n; ++c)
              abs_sum += std::fabs(static_cast<double>(qt[c * ldq + r]) * k[j * k_stride + c]);
            ASSERT_NEAR(got[j * lds + r], want[j * lds + r], 1e-5 * abs_sum) << rows << " " << n << " " << keys;
          }
        }
      }
    }
  }
}

TEST_P(SimdAttentionTiles, SoftmaxColsRel2em6InvSumRel1em5) {
  for (int64_t rows : {16, 32, 64}) {
    for (int64_t keys : {1, 5, 40, 600}) {
      const int64_t lds = rows + 2, j0 = 2, j1 = j0 + keys;
      std::vector<int32_t> first(rows), last(rows);
      for (int64_t r = 0; r < rows; ++r) {  // nested, shifted and single-key ranges inside [j0, j1)
        first[r] = static_cast<int32_t>(j0 + (r * 7) % keys);
        last[r] = static_cast<int32_t>(std::min(j1 - 1, first[r] + (r % 3 == 0 ? 0 : keys)));
      }
      auto got = RandomRow((j1 + 1) * lds, 3, 5.0f);
      auto want = got;
      std::vector<float> got_inv(rows), want_inv(rows);
      softmax_cols(got.data(), lds, rows, first.data(), last.data(), j0, j1, got_inv.data());
      ops::softmax_cols_ref(want.data(), lds, rows, first.data(), last.data(), j0, j1, want_inv.data());
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], 2e-6 * std::fabs(want[i]) + 1e-7) << rows << " " << keys << " i=" << i;
      }
      for (int64_t r = 0; r < rows; ++r) ASSERT_NEAR(got_inv[r], want_inv[r], 1e-5 * want_inv[r]) << r;
    }
  }
}

TEST_P(SimdAttentionTiles, WeightedSumColsWithin1em5OfScalar) {
  for (int64_t rows : {16, 32, 64}) {
    for (int64_t n : {7, 64, 72, 256, 512}) {
      for (int64_t keys : {1, 5, 32}) {
        const int64_t ldp = rows + 2, v_stride = n + 5, y_stride = n + 1;
        const auto pt = RandomRow(keys * ldp, 4), v = RandomRow(keys * v_stride, 5);
        auto y = RandomRow(rows * y_stride, 6);
        auto want = y;
        weighted_sum_cols(pt.data(), ldp, rows, v.data(), v_stride, keys, y.data(), y_stride, n);
        ops::weighted_sum_cols_ref(pt.data(), ldp, rows, v.data(), v_stride, keys, want.data(), y_stride, n);
        for (size_t i = 0; i < y.size(); ++i) {
          ASSERT_NEAR(y[i], want[i], 1e-5 * (std::fabs(want[i]) + keys)) << rows << " " << n << " " << keys;
        }
      }
    }
  }
}

POCKET_INSTANTIATE_PER_TARGET(SimdAttentionTiles);

}  // namespace
}  // namespace pocket::simd
