// SIMD tiled-attention kernels vs the scalar references in kernels/ops.cpp, on every target.
// Bounds (in the test names): gathering Qᵀ is exact; scores and P·V within 1e-5 of Σ|terms| (sums reassociated, fused
// multiply-adds); softmax probabilities within 2e-6 relative (+1e-7 absolute) and Σ within 1e-5
// relative (Highway's exp is accurate to a few ulp; Σ runs in float lanes, not double); the online
// softmax over blocks of keys within 1e-5 relative of the one-block softmax.

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

TEST_P(SimdAttentionTiles, GatherColsExact) {
  for (int64_t rows : {1, 8, 16, 19, 32, 64}) {
    for (int64_t n : {7, 256}) {
      const int64_t ldt = rows + 3;
      std::vector<int32_t> offset(rows);
      for (int64_t r = 0; r < rows; ++r) offset[r] = static_cast<int32_t>((r / 4) * 5 * n + (r % 4) * n);
      const auto x = RandomRow((rows / 4 + 1) * 5 * n, 9);
      std::vector<float> got(n * ldt, -3.0f), want(n * ldt, -3.0f);
      gather_cols(x.data(), offset.data(), rows, n, got.data(), ldt);
      ops::gather_cols_ref(x.data(), offset.data(), rows, n, want.data(), ldt);
      ASSERT_EQ(got, want) << rows << " " << n;
    }
  }
}

// Rows a kernel may compute for `rows` requested rows (whole vectors up to 16 lanes).
int64_t Covered(int64_t rows) { return (rows + ops::kTileRowAlign - 1) / ops::kTileRowAlign * ops::kTileRowAlign; }

TEST_P(SimdAttentionTiles, ScoreTileWithin1em5OfAbsSum) {
  for (int64_t rows : {4, 8, 12, 16, 32, 48, 64}) {
    for (int64_t n : {7, 64, 256, 512}) {
      for (int64_t keys : {1, 3, 4, 9, 37}) {
        const int64_t ldq = Covered(rows) + 3, k_stride = n + 5, lds = Covered(rows) + 1;
        const auto qt = RandomRow(n * ldq, 1), k = RandomRow(keys * k_stride, 2);
        std::vector<float> got(keys * lds, -7.0f), want(keys * lds, -7.0f);
        score_tile(qt.data(), ldq, rows, k.data(), k_stride, keys, n, got.data(), lds);
        ops::score_tile_ref(qt.data(), ldq, rows, k.data(), k_stride, keys, n, want.data(), lds);
        for (int64_t j = 0; j < keys; ++j) {
          for (int64_t r = 0; r < lds; ++r) {
            if (r >= rows && r < Covered(rows)) continue;  // unspecified
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

// Key ranges for `rows` rows inside [j0, j1): nested, shifted and single-key ones.
void MakeRanges(int64_t rows, int64_t j0, int64_t j1, std::vector<int32_t>& first, std::vector<int32_t>& last) {
  const int64_t keys = j1 - j0;
  first.resize(rows);
  last.resize(rows);
  for (int64_t r = 0; r < rows; ++r) {
    first[r] = static_cast<int32_t>(j0 + (r * 7) % keys);
    last[r] = static_cast<int32_t>(std::min(j1 - 1, first[r] + (r % 3 == 0 ? 0 : keys)));
  }
}

TEST_P(SimdAttentionTiles, SoftmaxColsOneBlockRel2em6SumRel1em5) {
  for (int64_t rows : {4, 8, 12, 16, 32, 64}) {
    for (int64_t keys : {1, 5, 40, 600}) {
      const int64_t lds = Covered(rows) + 2, j0 = 2, j1 = j0 + keys;
      std::vector<int32_t> first, last;
      MakeRanges(Covered(rows), j0, j1, first, last);
      auto got = RandomRow(keys * lds, 3, 5.0f);
      auto want = got;
      std::vector<float> got_max(Covered(rows), -HUGE_VALF), got_sum(Covered(rows), 0.0f), got_rescale(Covered(rows));
      auto want_max = got_max, want_sum = got_sum, want_rescale = got_rescale;
      softmax_cols(got.data(), lds, rows, first.data(), last.data(), j0, j1, got_max.data(), got_sum.data(),
                   got_rescale.data());
      ops::softmax_cols_ref(want.data(), lds, rows, first.data(), last.data(), j0, j1, want_max.data(), want_sum.data(),
                            want_rescale.data());
      for (int64_t j = 0; j < keys; ++j) {
        for (int64_t r = 0; r < lds; ++r) {
          if (r >= rows && r < Covered(rows)) continue;  // unspecified
          const float w = want[j * lds + r];
          ASSERT_NEAR(got[j * lds + r], w, 2e-6 * std::fabs(w) + 1e-7) << rows << " " << keys << " " << j << " " << r;
        }
      }
      for (int64_t r = 0; r < rows; ++r) {
        ASSERT_EQ(got_max[r], want_max[r]) << r;
        ASSERT_NEAR(got_sum[r], want_sum[r], 1e-5 * want_sum[r]) << r;
        ASSERT_EQ(got_rescale[r], 0.0f) << r;  // nothing accumulated before: the factor clears it
      }
    }
  }
}

// Blocks of keys with the running max / sum, earlier probabilities scaled by the later factors as
// attention does, give the one-block softmax: within 1e-5 relative (+1e-7 absolute). Rows whose range
// misses a block (before or after it) are covered.
TEST_P(SimdAttentionTiles, SoftmaxColsBlocksMatchOneBlockRel1em5) {
  const int64_t rows = 32, lds = rows, keys = 300;
  std::vector<int32_t> first, last;
  MakeRanges(rows, 0, keys, first, last);
  const auto scores = RandomRow(keys * lds, 4, 5.0f);
  auto want = scores;
  std::vector<float> mx(rows, -HUGE_VALF), sum(rows, 0.0f), rescale(rows);
  ops::softmax_cols_ref(want.data(), lds, rows, first.data(), last.data(), 0, keys, mx.data(), sum.data(),
                        rescale.data());
  for (int64_t block : {1, 7, 64, 299}) {
    auto got = scores;
    std::fill(mx.begin(), mx.end(), -HUGE_VALF);
    std::fill(sum.begin(), sum.end(), 0.0f);
    for (int64_t jb = 0; jb < keys; jb += block) {
      const int64_t je = std::min(keys, jb + block);
      softmax_cols(got.data() + jb * lds, lds, rows, first.data(), last.data(), jb, je, mx.data(), sum.data(),
                   rescale.data());
      for (int64_t j = 0; j < jb; ++j) {
        for (int64_t r = 0; r < rows; ++r) got[j * lds + r] *= rescale[r];
      }
    }
    for (int64_t j = 0; j < keys; ++j) {
      for (int64_t r = 0; r < rows; ++r) {
        const float p = got[j * lds + r] / sum[r];
        double want_sum = 0;
        for (int64_t k = 0; k < keys; ++k) want_sum += want[k * lds + r];
        const float w = static_cast<float>(want[j * lds + r] / want_sum);
        ASSERT_NEAR(p, w, 1e-5 * w + 1e-7) << block << " j=" << j << " r=" << r;
      }
    }
  }
}

TEST_P(SimdAttentionTiles, WeightedSumColsWithin1em5OfScalar) {
  for (int64_t rows : {4, 8, 12, 16, 32, 64}) {
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
