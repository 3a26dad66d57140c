#include <algorithm>
#include <cmath>

#include "kernels/ops.h"
#include "model/gemma4_blocks.h"

namespace pocket {

void attention(const Gemma4Config& cfg, int l, const float* q, int64_t n, int64_t pos0, const KvCache& cache,
               float* out, ThreadPool& pool, ForwardScratch& s, std::span<const BatchMedia> media) {
  const LayerConfig& lc = cfg.layers[l];
  const int64_t d = lc.head_dim, nh = cfg.n_head, group = nh / lc.n_kv_heads;
  const int64_t q_stride = nh * d;
  if (static_cast<int>(s.scores.size()) < pool.size()) s.scores.resize(pool.size());
  for (auto& sc : s.scores) {
    if (static_cast<int64_t>(sc.size()) < cache.capacity(l)) sc.resize(cache.capacity(l));
  }
  // One work item per (token, head); each reads only the keys its mask allows.
  pool.parallel_for(n * nh, 4, [&](int64_t b, int64_t e, int thread) {
    float* scores = s.scores[thread].data();
    for (int64_t item = b; item < e; ++item) {
      const int64_t t = item / nh, h = item % nh, kvh = h / group;
      const int64_t pos = pos0 + t;
      const int64_t first = lc.is_global ? 0 : std::max<int64_t>(0, pos - cfg.sliding_window + 1);
      int64_t last = pos;
      if (!lc.is_global) {
        for (const BatchMedia& blk : media) {
          if (blk.bidirectional && t >= blk.offset && t < blk.offset + blk.n) last = pos0 + blk.offset + blk.n - 1;
        }
      }
      const float* qh = q + t * q_stride + h * d;
      const int64_t n_keys = last - first + 1;
      for (int64_t j = 0; j < n_keys; ++j) {
        scores[j] = ops::dot_f32(qh, cache.k(l, first + j) + kvh * d, d);
      }
      ops::softmax(scores, n_keys);
      float* oh = out + t * q_stride + h * d;
      std::fill(oh, oh + d, 0.0f);
      for (int64_t j = 0; j < n_keys; ++j) ops::axpy(scores[j], cache.v(l, first + j) + kvh * d, oh, d);
    }
  });
}

}  // namespace pocket
