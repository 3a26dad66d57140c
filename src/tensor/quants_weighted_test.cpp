// Tests for quants_weighted.h: bit for bit against llama.cpp's ggml_quantize_chunk with quant_weights
// (libggml-base.so from the node-llama-cpp npm package, as quants_test.cpp uses it), on random rows with
// random, skewed and partly zero importance weights; plus oracle-free expectations: no weights = the
// reference quantizer, exactly representable rows stay exact, weights pull the error where they point.
#include "tensor/quants_weighted.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tensor/quants.h"

namespace pocket {
namespace {

using QuantizeChunkFn = size_t (*)(int type, const float* src, void* dst, int64_t start, int64_t nrows,
                                   int64_t n_per_row, const float* imatrix);

QuantizeChunkFn ggml_quantize_chunk_fn() {
  static QuantizeChunkFn fn = [] {
    const std::string dir = POCKET_SOURCE_DIR "/tests/oracle/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/";
    void* base = dlopen((dir + "libggml-base.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    return base ? reinterpret_cast<QuantizeChunkFn>(dlsym(base, "ggml_quantize_chunk")) : nullptr;
  }();
  return fn;
}

bool oracle_skipped() {
  const char* skip = std::getenv("POCKET_NO_ORACLE");
  return skip != nullptr && std::string(skip) == "1";
}

const GgmlType kWeightedTypes[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q2_K,
                                   GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

std::vector<uint8_t> ours(GgmlType t, const std::vector<float>& x, int64_t ne0, const float* w) {
  const int64_t rows = static_cast<int64_t>(x.size()) / ne0;
  std::vector<uint8_t> out(row_size(t, ne0) * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    quantize_row_weighted(t, x.data() + r * ne0, out.data() + static_cast<size_t>(r) * row_size(t, ne0), ne0, w);
  }
  return out;
}

// Rows of mixed character: Gaussian, heavy-tailed, all-positive, mostly zero, one all-zero, tiny values.
std::vector<float> test_rows(int64_t ne0, int rows, std::mt19937& rng) {
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(ne0 * rows));
  for (int r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < ne0; ++j) {
      float v = g(rng);
      switch (r % 6) {
        case 1:
          v = v * v * v;
          break;
        case 2:
          v = std::fabs(v) + 0.1f;
          break;
        case 3:
          v = (j % 7 == 0) ? v : 0.0f;
          break;
        case 4:
          v = 0.0f;
          break;
        case 5:
          v *= 1e-6f;
          break;
        default:
          break;
      }
      x[static_cast<size_t>(r * ne0 + j)] = v;
    }
  }
  return x;
}

TEST(QuantsWeighted, BitExactWithGgmlQuantizeChunk) {
  const QuantizeChunkFn chunk = ggml_quantize_chunk_fn();
  if (!chunk) {
    if (oracle_skipped()) GTEST_SKIP() << "POCKET_NO_ORACLE=1";
    FAIL() << "libggml-base.so not found; run scripts/setup.sh (or POCKET_NO_ORACLE=1 to skip)";
  }
  std::mt19937 rng(7);
  const int64_t ne0 = 512;
  const int rows = 12;
  const std::vector<float> x = test_rows(ne0, rows, rng);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  // Importance weights like an imatrix: mean squares spanning orders of magnitude, some columns 0.
  std::vector<std::vector<float>> weight_sets(3, std::vector<float>(static_cast<size_t>(ne0)));
  for (int64_t j = 0; j < ne0; ++j) {
    weight_sets[0][j] = u(rng);
    weight_sets[1][j] = std::pow(10.0f, 4.0f * u(rng) - 2.0f);
    weight_sets[2][j] = (j % 5 == 0) ? 0.0f : u(rng) * u(rng);
  }
  for (GgmlType t : kWeightedTypes) {
    for (size_t s = 0; s < weight_sets.size(); ++s) {
      std::vector<uint8_t> want(row_size(t, ne0) * rows);
      chunk(static_cast<int>(t), x.data(), want.data(), 0, rows, ne0, weight_sets[s].data());
      EXPECT_EQ(ours(t, x, ne0, weight_sets[s].data()), want) << traits(t).name << " weight set " << s;
    }
  }
}

TEST(QuantsWeighted, NoWeightsOrUnweightedTypeIsTheReferenceQuantizer) {
  std::mt19937 rng(3);
  const int64_t ne0 = 256;
  const std::vector<float> x = test_rows(ne0, 6, rng);
  const std::vector<float> w(static_cast<size_t>(ne0), 2.0f);
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q8_0, GgmlType::F16}) {
    std::vector<uint8_t> ref(row_size(t, ne0) * 6);
    for (int r = 0; r < 6; ++r) quantize_row(t, x.data() + r * ne0, ref.data() + r * row_size(t, ne0), ne0);
    EXPECT_EQ(ours(t, x, ne0, nullptr), ref) << traits(t).name;
    EXPECT_EQ(uses_importance_weights(t), t != GgmlType::Q8_0 && t != GgmlType::F16) << traits(t).name;
    if (!uses_importance_weights(t)) {
      EXPECT_EQ(ours(t, x, ne0, w.data()), ref) << traits(t).name;
    }
  }
}

// A row that is exactly d·(l − 8) with one level at −8 (so the first scale guess is exact) comes back
// unchanged from the weighted Q4_0 / Q5_0 / Q8-level searches, whatever the (positive) weights.
TEST(QuantsWeighted, ExactlyRepresentableRowsStayExact) {
  const int64_t ne0 = 64;
  std::vector<float> x(static_cast<size_t>(ne0)), w(static_cast<size_t>(ne0)), y(static_cast<size_t>(ne0));
  for (int64_t j = 0; j < ne0; ++j) {
    x[j] = 0.25f * static_cast<float>(j % 16 - 8);
    w[j] = 1.0f + static_cast<float>(j % 3);
  }
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q5_0}) {
    std::vector<uint8_t> q(row_size(t, ne0));
    quantize_row_weighted(t, x.data(), q.data(), ne0, w.data());
    dequantize_row(t, q.data(), y.data(), ne0);
    EXPECT_EQ(y, x) << traits(t).name;
  }
}

// Weighted squared error Σ w (x − x̂)², with weights 100 on a quarter of the columns and 0.01 elsewhere:
// the weighted quantizer must beat the unweighted one by a clear margin for every type.
TEST(QuantsWeighted, WeightsLowerTheWeightedError) {
  std::mt19937 rng(11);
  const int64_t ne0 = 1024;
  const int rows = 16;
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(ne0 * rows)), w(static_cast<size_t>(ne0)), y(static_cast<size_t>(ne0));
  for (float& v : x) v = g(rng);
  for (int64_t j = 0; j < ne0; ++j) w[j] = (j % 4 == 0) ? 100.0f : 0.01f;
  for (GgmlType t : kWeightedTypes) {
    double err_plain = 0.0, err_weighted = 0.0;
    const std::vector<uint8_t> plain = ours(t, x, ne0, nullptr), weighted = ours(t, x, ne0, w.data());
    for (int r = 0; r < rows; ++r) {
      for (const auto* q : {&plain, &weighted}) {
        dequantize_row(t, q->data() + r * row_size(t, ne0), y.data(), ne0);
        double e = 0.0;
        for (int64_t j = 0; j < ne0; ++j) e += w[j] * (x[r * ne0 + j] - y[j]) * (x[r * ne0 + j] - y[j]);
        (q == &plain ? err_plain : err_weighted) += e;
      }
    }
    EXPECT_LT(err_weighted, 0.9 * err_plain) << traits(t).name;
  }
}

}  // namespace
}  // namespace pocket
