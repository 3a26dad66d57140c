// matmul (decode and prefill paths: quantize, matvec_rows, packed-panel tiles, threads) vs the
// scalar reference quantize_row + vec_dot_ref, on every target.
//  - Legacy formats: bit-exact.
//  - K formats and F32 / F16 / BF16: |got - want| <= 2e-5 * Σ|w_i x_i| ("RelTol2em5").

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/simd/simd.h"
#include "kernels/simd/simd_test_util.h"
#include "kernels/thread_pool.h"
#include "tensor/quants.h"

namespace pocket::simd {
namespace {

using testing::PerTarget;
using testing::RandomRow;
using testing::RandomWeights;

class SimdGemm : public PerTarget {};

struct Problem {
  GgmlType type;
  int64_t rows, cols, n_tokens;
};

void CheckMatmul(const Problem& p, bool exact, ThreadPool& pool, MatmulScratch& scratch) {
  const size_t rb = row_size(p.type, p.cols);
  std::vector<uint8_t> wm(rb * static_cast<size_t>(p.rows));
  for (int64_t r = 0; r < p.rows; ++r) {
    const auto row = RandomWeights(p.type, p.cols, 700 + static_cast<uint32_t>(r));
    std::memcpy(wm.data() + rb * static_cast<size_t>(r), row.data(), rb);
  }
  std::vector<float> x;
  for (int64_t t = 0; t < p.n_tokens; ++t) {
    const auto row = RandomRow(p.cols, 800 + static_cast<uint32_t>(t));
    x.insert(x.end(), row.begin(), row.end());
  }
  const int64_t y_stride = p.rows + 3;
  std::vector<float> y(static_cast<size_t>(y_stride * p.n_tokens), -7.0f);
  const WeightMatrix w{p.type, wm.data(), p.cols, p.rows, rb};
  matmul(w, x.data(), p.n_tokens, y.data(), y_stride, pool, scratch);

  const GgmlType xt = vec_dot_type(p.type);
  std::vector<uint8_t> xq(row_size(xt, p.cols));
  std::vector<float> wf(static_cast<size_t>(p.cols)), xf(static_cast<size_t>(p.cols));
  int bad = 0;
  for (int64_t t = 0; t < p.n_tokens && bad < 5; ++t) {
    quantize_row(xt, x.data() + t * p.cols, xq.data(), p.cols);
    dequantize_row(xt, xq.data(), xf.data(), p.cols);
    for (int64_t r = 0; r < p.rows && bad < 5; ++r) {
      const uint8_t* wr = wm.data() + rb * static_cast<size_t>(r);
      const float want = vec_dot_ref(p.type, wr, xq.data(), p.cols);
      const float got = y[static_cast<size_t>(t * y_stride + r)];
      if (exact) {
        if (std::bit_cast<uint32_t>(want) != std::bit_cast<uint32_t>(got)) ++bad;
        EXPECT_EQ(std::bit_cast<uint32_t>(want), std::bit_cast<uint32_t>(got))
            << traits(p.type).name << " t=" << t << " r=" << r << " want " << want << " got " << got;
      } else {
        dequantize_row(p.type, wr, wf.data(), p.cols);
        double abs_sum = 0;
        for (int64_t i = 0; i < p.cols; ++i) abs_sum += std::fabs(static_cast<double>(wf[i]) * xf[i]);
        if (std::fabs(got - want) > 2e-5 * abs_sum + 1e-30) ++bad;
        EXPECT_NEAR(got, want, 2e-5 * abs_sum + 1e-30) << traits(p.type).name << " t=" << t << " r=" << r;
      }
    }
    for (int64_t r = p.rows; r < y_stride; ++r) EXPECT_EQ(y[static_cast<size_t>(t * y_stride + r)], -7.0f);
  }
}

constexpr int64_t kTokenCounts[] = {1, 3, 4, 13, 37};

TEST_P(SimdGemm, LegacyFormatsBitExact) {
  ThreadPool pool(2);
  MatmulScratch scratch;
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0}) {
    for (int64_t n : kTokenCounts) CheckMatmul({t, 45, 256, n}, true, pool, scratch);
  }
}

TEST_P(SimdGemm, KAndFloatFormatsRelTol2em5) {
  ThreadPool pool(2);
  MatmulScratch scratch;
  for (GgmlType t : {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::F32,
                     GgmlType::F16, GgmlType::BF16}) {
    for (int64_t n : kTokenCounts) CheckMatmul({t, 45, 512, n}, false, pool, scratch);
  }
}

// One thread, a larger shape and a scratch reused across different shapes.
TEST_P(SimdGemm, SingleThreadReusedScratch) {
  ThreadPool pool(1);
  MatmulScratch scratch;
  CheckMatmul({GgmlType::Q4_0, 64, 1536, 20}, true, pool, scratch);
  CheckMatmul({GgmlType::Q6_K, 33, 768, 9}, false, pool, scratch);
  CheckMatmul({GgmlType::Q8_0, 17, 64, 5}, true, pool, scratch);
  // 13 panels: four 3-panel groups and a lone panel, 37 tokens: full and partial token tiles.
  CheckMatmul({GgmlType::Q4_0, 200, 512, 37}, true, pool, scratch);
  CheckMatmul({GgmlType::Q4_K, 232, 256, 11}, false, pool, scratch);
}

// matmul_many (one pool pass for several products) gives exactly what matmul gives for each job:
// mixed types and shapes, jobs sharing an input, decode-shaped (1-3 tokens, grouped) and
// prefill-shaped (run one by one), matrices large enough to be shared out across the threads.
TEST_P(SimdGemm, MatmulManyBitIdenticalToOneByOne) {
  ThreadPool pool(2);
  MatmulScratch many_scratch, one_scratch;
  struct Spec {
    GgmlType type;
    int64_t rows, cols;
    int input;  // which of the two inputs the job reads
  };
  const Spec specs[] = {{GgmlType::Q4_0, 700, 512, 0},  {GgmlType::Q4_K, 333, 512, 0}, {GgmlType::Q8_0, 64, 512, 1},
                        {GgmlType::Q6_K, 1000, 256, 1}, {GgmlType::F16, 48, 512, 0},   {GgmlType::Q4_0, 16, 512, 0},
                        {GgmlType::Q4_0, 100, 512, 0}};  // the last two share one converted input
  std::vector<std::vector<uint8_t>> weights;
  std::vector<WeightMatrix> mats;
  for (const Spec& sp : specs) {
    const size_t rb = row_size(sp.type, sp.cols);
    std::vector<uint8_t>& wm = weights.emplace_back(rb * static_cast<size_t>(sp.rows));
    for (int64_t r = 0; r < sp.rows; ++r) {
      const auto row = RandomWeights(sp.type, sp.cols, 900 + static_cast<uint32_t>(r));
      std::memcpy(wm.data() + rb * static_cast<size_t>(r), row.data(), rb);
    }
  }
  for (size_t i = 0; i < std::size(specs); ++i) {
    mats.push_back(
        {specs[i].type, weights[i].data(), specs[i].cols, specs[i].rows, row_size(specs[i].type, specs[i].cols)});
  }
  for (int64_t n : {1, 2, 3, 20}) {
    std::vector<float> inputs[2];
    for (int k = 0; k < 2; ++k) inputs[k] = RandomRow(512 * n, 50 + static_cast<uint32_t>(k));
    std::vector<std::vector<float>> got, want;
    std::vector<MatmulJob> jobs;
    for (size_t i = 0; i < std::size(specs); ++i) {
      got.emplace_back(static_cast<size_t>(specs[i].rows * n), -1.0f);
      want.emplace_back(static_cast<size_t>(specs[i].rows * n), -2.0f);
    }
    for (size_t i = 0; i < std::size(specs); ++i) {
      jobs.push_back({&mats[i], inputs[specs[i].input].data(), n, got[i].data(), specs[i].rows});
      matmul(mats[i], inputs[specs[i].input].data(), n, want[i].data(), specs[i].rows, pool, one_scratch);
    }
    matmul_many(jobs, pool, many_scratch);
    for (size_t i = 0; i < std::size(specs); ++i) {
      for (size_t k = 0; k < got[i].size(); ++k) {
        ASSERT_EQ(std::bit_cast<uint32_t>(got[i][k]), std::bit_cast<uint32_t>(want[i][k]))
            << "job " << i << " (" << traits(specs[i].type).name << ") n=" << n << " at " << k;
      }
    }
  }
}

// Stored panels (the layout weights are copied into at load on AVX-512) give bit-identical products
// to the GGUF rows for every token count (decode kernel, grouped decode, prefill tiles, the row
// fallback on other targets), and every row dequantizes to the same values.
TEST_P(SimdGemm, StoredPanelsBitIdenticalToRows) {
  ThreadPool pool(2);
  MatmulScratch scratch;
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q8_0}) {
    for (int64_t rows : {45, 200}) {
      const int64_t cols = 512;
      const size_t rb = row_size(type, cols);
      std::vector<uint8_t> wm(rb * static_cast<size_t>(rows));
      for (int64_t r = 0; r < rows; ++r) {
        const auto row = RandomWeights(type, cols, 300 + static_cast<uint32_t>(r));
        std::memcpy(wm.data() + rb * static_cast<size_t>(r), row.data(), rb);
      }
      std::vector<uint8_t> store(stored_panels_bytes(type, rows, cols) + 64);
      uint8_t* panels = store.data() + (64 - reinterpret_cast<uintptr_t>(store.data()) % 64) % 64;
      store_panels({type, wm.data(), cols, rows, rb}, panels);
      const WeightMatrix by_rows{type, wm.data(), cols, rows, rb};
      WeightMatrix by_panels{type, panels, cols, rows, rb};
      by_panels.panels = true;
      std::vector<float> a(static_cast<size_t>(cols)), b(static_cast<size_t>(cols));
      for (int64_t r = 0; r < rows; ++r) {
        dequantize_matrix_row(by_rows, r, a.data());
        dequantize_matrix_row(by_panels, r, b.data());
        ASSERT_EQ(a, b) << traits(type).name << " row " << r;
      }
      for (int64_t n : {1, 2, 3, 4, 13, 37}) {
        const auto x = RandomRow(cols * n, 60 + static_cast<uint32_t>(n));
        std::vector<float> want(static_cast<size_t>(rows * n)), got(want.size()), many(want.size());
        matmul(by_rows, x.data(), n, want.data(), rows, pool, scratch);
        matmul(by_panels, x.data(), n, got.data(), rows, pool, scratch);
        const MatmulJob jobs[] = {{&by_panels, x.data(), n, many.data(), rows}, {&by_rows, x.data(), n, a.data(), 0}};
        matmul_many(std::span(jobs, 1), pool, scratch);
        for (size_t k = 0; k < want.size(); ++k) {
          ASSERT_EQ(std::bit_cast<uint32_t>(got[k]), std::bit_cast<uint32_t>(want[k]))
              << traits(type).name << " rows=" << rows << " n=" << n << " at " << k;
          ASSERT_EQ(std::bit_cast<uint32_t>(many[k]), std::bit_cast<uint32_t>(want[k]))
              << "matmul_many " << traits(type).name << " rows=" << rows << " n=" << n << " at " << k;
        }
      }
    }
  }
}

POCKET_INSTANTIATE_PER_TARGET(SimdGemm);

}  // namespace
}  // namespace pocket::simd
