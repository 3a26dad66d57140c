// gemma4uv, the 12B "unified" encoder-free image embedder (spec appendix A; llama.cpp gemma4uv):
// each 48×48 cell of pixels in [0,1] is one soft token —
//   cell [3·48·48] (channel, row, column order) → LayerNorm → linear + bias → LayerNorm
//   → + x-table[column] + y-table[row] → LayerNorm → weightless RMSNorm → mm.input_projection.
// LayerNorms are PyTorch defaults (eps 1e-5, weight and bias).
#include <cmath>

#include "media/vision_internal.h"

namespace pocket::vision_detail {
namespace {

constexpr float kLayerNormEps = 1e-5f;

void layer_norm(float* x, int64_t n, const std::vector<float>& w, const std::vector<float>& b) {
  double mean = 0.0;
  for (int64_t i = 0; i < n; ++i) mean += x[i];
  mean /= static_cast<double>(n);
  double var = 0.0;
  for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= static_cast<double>(n);
  const float inv = 1.0f / std::sqrt(static_cast<float>(var) + kLayerNormEps);
  const float mu = static_cast<float>(mean);
  for (int64_t i = 0; i < n; ++i) x[i] = (x[i] - mu) * inv * w[static_cast<size_t>(i)] + b[static_cast<size_t>(i)];
}

}  // namespace

Status encode_unified(const VisionWeights& w, const MmprojVisionHparams& hp, std::span<const float> chw, int64_t height,
                      int64_t width, float* out, ThreadPool& pool, Scratch& s) {
  const int64_t c = hp.patch_size * hp.pooling, d = hp.n_embd, K = 3 * c * c;
  const int64_t gh = height / c, gw = width / c, n = gh * gw;
  if (gw > w.pos_rows || gh > w.pos_rows) {
    return Error{"image of " + std::to_string(gw) + "×" + std::to_string(gh) +
                 " cells exceeds the vision position table (" + std::to_string(w.pos_rows) + " per side)"};
  }
  std::vector<float> cells(static_cast<size_t>(n * K));
  pool.parallel_for(n, 4, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t cy = t / gw, cx = t % gw;
      float* dst = cells.data() + t * K;
      for (int64_t ch = 0; ch < 3; ++ch) {
        for (int64_t ky = 0; ky < c; ++ky) {
          const float* src = chw.data() + (ch * height + cy * c + ky) * width + cx * c;
          for (int64_t kx = 0; kx < c; ++kx) *dst++ = src[kx];
        }
      }
      layer_norm(cells.data() + t * K, K, w.norm1_w, w.norm1_b);
    }
  });
  std::vector<float> h(static_cast<size_t>(n * d));
  matmul(w.patch_embd, cells.data(), n, h.data(), d, pool, s.mm);
  const int64_t P = w.pos_rows;
  pool.parallel_for(n, 4, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) {
      float* ht = h.data() + t * d;
      for (int64_t i = 0; i < d; ++i) ht[i] += w.patch_bias[static_cast<size_t>(i)];
      layer_norm(ht, d, w.norm2_w, w.norm2_b);
      const float* ex = w.pos_table.data() + (t % gw) * d;
      const float* ey = w.pos_table.data() + (P + t / gw) * d;
      for (int64_t i = 0; i < d; ++i) ht[i] += ex[i] + ey[i];
      layer_norm(ht, d, w.norm3_w, w.norm3_b);
    }
  });
  project(w, h.data(), n, d, hp.eps, out, pool, s);
  return {};
}

}  // namespace pocket::vision_detail
