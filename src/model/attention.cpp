#include <algorithm>
#include <cmath>

#include "kernels/ops.h"
#include "model/gemma4_blocks.h"

namespace pocket {
namespace {

// Keys [first, last] (positions) that query t of the batch may read on layer lc: causal, windowed on
// sliding layers, and on sliding layers extended to the end of a bidirectional media block holding t.
struct KeyRange {
  int64_t first, last;
};
KeyRange key_range(const Gemma4Config& cfg, const LayerConfig& lc, int64_t t, int64_t pos0,
                   std::span<const BatchMedia> media) {
  const int64_t pos = pos0 + t;
  KeyRange r{lc.is_global ? 0 : std::max<int64_t>(0, pos - cfg.sliding_window + 1), pos};
  if (!lc.is_global) {
    for (const BatchMedia& blk : media) {
      if (blk.bidirectional && t >= blk.offset && t < blk.offset + blk.n) r.last = pos0 + blk.offset + blk.n - 1;
    }
  }
  return r;
}

// Query tokens per work item in the tiled (prefill) path: with the `group` heads that share a KV head
// that is 16·group query rows reading each K/V row once while it is in L1.
constexpr int64_t kQueryTile = 16;

}  // namespace

void attention(const Gemma4Config& cfg, int l, const float* q, int64_t n, int64_t pos0, const KvCache& cache,
               float* out, ThreadPool& pool, ForwardScratch& s, std::span<const BatchMedia> media) {
  const LayerConfig& lc = cfg.layers[l];
  const int64_t d = lc.head_dim, nh = cfg.n_head, kvh_n = lc.n_kv_heads, group = nh / kvh_n;
  const int64_t q_stride = nh * d;
  const bool tiled = n >= kQueryTile / 2;
  // Scores per thread: one query's keys (decode), or a tile's rows × the tile's key span (prefill;
  // the span never exceeds the ring capacity: window + batch, or the whole context).
  const int64_t per_thread = (tiled ? kQueryTile * group : 1) * cache.capacity(l);
  if (static_cast<int>(s.scores.size()) < pool.size()) s.scores.resize(pool.size());
  for (auto& sc : s.scores) {
    if (static_cast<int64_t>(sc.size()) < per_thread) sc.resize(per_thread);
  }

  if (!tiled) {
    // Decode / tiny batches: one work item per (token, head), so every thread has work.
    pool.parallel_for(n * nh, 4, [&](int64_t b, int64_t e, int thread) {
      float* scores = s.scores[thread].data();
      for (int64_t item = b; item < e; ++item) {
        const int64_t t = item / nh, h = item % nh, kvh = h / group;
        const KeyRange kr = key_range(cfg, lc, t, pos0, media);
        const float* qh = q + t * q_stride + h * d;
        const int64_t n_keys = kr.last - kr.first + 1;
        for (int64_t j = 0; j < n_keys; ++j) scores[j] = ops::dot_f32(qh, cache.k(l, kr.first + j) + kvh * d, d);
        ops::softmax(scores, n_keys);
        float* oh = out + t * q_stride + h * d;
        std::fill(oh, oh + d, 0.0f);
        for (int64_t j = 0; j < n_keys; ++j) ops::axpy(scores[j], cache.v(l, kr.first + j) + kvh * d, oh, d);
      }
    });
    return;
  }

  // Prefill: one work item per (KV head, tile of kQueryTile tokens). rows = tile tokens × group heads;
  // scores: [rows][span] where span covers every key any row of the tile reads.
  const int64_t n_tiles = (n + kQueryTile - 1) / kQueryTile;
  pool.parallel_for(kvh_n * n_tiles, 1, [&](int64_t b, int64_t e, int thread) {
    float* scores = s.scores[thread].data();
    KeyRange ranges[kQueryTile];
    for (int64_t item = b; item < e; ++item) {
      const int64_t kvh = item / n_tiles, t0 = (item % n_tiles) * kQueryTile;
      const int64_t tn = std::min(kQueryTile, n - t0);
      int64_t kmin = INT64_MAX, kmax = -1;
      for (int64_t i = 0; i < tn; ++i) {
        ranges[i] = key_range(cfg, lc, t0 + i, pos0, media);
        kmin = std::min(kmin, ranges[i].first);
        kmax = std::max(kmax, ranges[i].last);
      }
      const int64_t span = kmax - kmin + 1;
      for (int64_t j = kmin; j <= kmax; ++j) {
        const float* kr = cache.k(l, j) + kvh * d;
        for (int64_t i = 0; i < tn; ++i) {
          if (j < ranges[i].first || j > ranges[i].last) continue;
          const float* qt = q + (t0 + i) * q_stride + kvh * group * d;
          ops::dot_rows(qt, group, d, kr, d, scores + i * group * span + (j - kmin), span);
        }
      }
      for (int64_t i = 0; i < tn; ++i) {
        const int64_t off = ranges[i].first - kmin, len = ranges[i].last - ranges[i].first + 1;
        for (int64_t g = 0; g < group; ++g) ops::softmax(scores + (i * group + g) * span + off, len);
        float* ot = out + (t0 + i) * q_stride + kvh * group * d;
        std::fill(ot, ot + group * d, 0.0f);
      }
      // out_i += P_i · V over the row's keys, per contiguous run of ring slots (at most two).
      const int64_t cap = cache.capacity(l), v_stride = cache.row_stride(l);
      for (int64_t i = 0; i < tn; ++i) {
        float* ot = out + (t0 + i) * q_stride + kvh * group * d;
        for (int64_t run = ranges[i].first; run <= ranges[i].last;) {
          const int64_t run_end = std::min(ranges[i].last, (run / cap + 1) * cap - 1);
          ops::weighted_sum_rows(scores + i * group * span + (run - kmin), span, group, cache.v(l, run) + kvh * d,
                                 v_stride, run_end - run + 1, ot, d, d);
          run = run_end + 1;
        }
      }
    }
  });
}

}  // namespace pocket
