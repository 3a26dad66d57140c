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

// Tiled (prefill) path: a work item is one KV head and a chunk of tokens whose query heads sharing it
// make about kChunkRows rows (4 tokens × 8 heads on E2B). The rows sit in vector lanes (Qᵀ, Sᵀ), so the
// score, softmax and P·V kernels need no horizontal sums. Rows are padded with zero queries to a
// multiple of ops::kTileRowAlign. A chunk reads its keys in blocks of kScoreBlock with an online
// softmax, so its scores stay in L2 however long the context (one block, a plain softmax, covers every
// sliding window and global spans up to kScoreBlock).
constexpr int64_t kChunkRows = 32;
constexpr int64_t kScoreBlock = 2048;  // 256 KiB of scores at 32 rows
constexpr int64_t kMaxChunkRows = 64;  // larger groups (never in Gemma 4) take the per-head path
// Keys per P·V step: 32 rows of V (32 KiB at head_dim 256) stay in L1 while every row of the chunk
// reads them.
constexpr int64_t kValueBlock = 32;

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

}  // namespace

void attention(const Gemma4Config& cfg, int l, const float* q, int64_t n, int64_t pos0, const KvCache& cache,
               float* out, ThreadPool& pool, ForwardScratch& s, std::span<const BatchMedia> media) {
  const LayerConfig& lc = cfg.layers[l];
  const int64_t d = lc.head_dim, nh = cfg.n_head, kvh_n = lc.n_kv_heads, group = nh / kvh_n;
  const int64_t q_stride = nh * d;
  const int64_t chunk_tokens = std::max<int64_t>(1, kChunkRows / group);
  const int64_t rows_pad = round_up(chunk_tokens * group, ops::kTileRowAlign);
  const bool tiled = n >= 8 && rows_pad <= kMaxChunkRows;
  // Scratch per thread: one query's keys (decode), or a chunk's Qᵀ [d][rows_pad], Sᵀ of one key block
  // [score_block][rows_pad] (a chunk's key span never exceeds the ring capacity: window + batch, or the
  // whole context), its unnormalized outputs [rows_pad][d] and the softmax state [3][rows_pad].
  const int64_t cap = cache.capacity(l), score_block = std::min<int64_t>(cap, kScoreBlock);
  const int64_t per_thread = tiled ? rows_pad * (2 * d + score_block + 3) : cap;
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

  // Prefill: row r of a chunk is token t0 + r / group, head kvh·group + r % group. Keys are indexed
  // from the chunk's first key kmin; a row reads keys [first[r], last[r]] of [0, span).
  const int64_t n_chunks = (n + chunk_tokens - 1) / chunk_tokens;
  const int64_t kv_stride = cache.row_stride(l);
  pool.parallel_for(kvh_n * n_chunks, 1, [&](int64_t b, int64_t e, int thread) {
    float* qt = s.scores[thread].data();      // [d][rows_pad]
    float* st = qt + d * rows_pad;            // [score_block][rows_pad]
    float* ot = st + score_block * rows_pad;  // [rows_pad][d]
    float* row_max = ot + rows_pad * d;       // [rows_pad] each
    float* row_sum = row_max + rows_pad;
    float* rescale = row_sum + rows_pad;
    int32_t first[kMaxChunkRows], last[kMaxChunkRows];
    for (int64_t item = b; item < e; ++item) {
      // Latest chunks first: they read the most keys, and the pool hands out items in order.
      const int64_t kvh = item / n_chunks, t0 = (n_chunks - 1 - item % n_chunks) * chunk_tokens;
      const int64_t tn = std::min(chunk_tokens, n - t0), rows = tn * group;
      KeyRange ranges[kMaxChunkRows];
      int64_t kmin = INT64_MAX, kmax = -1;
      for (int64_t i = 0; i < tn; ++i) {
        ranges[i] = key_range(cfg, lc, t0 + i, pos0, media);
        kmin = std::min(kmin, ranges[i].first);
        kmax = std::max(kmax, ranges[i].last);
      }
      const int64_t span = kmax - kmin + 1;
      for (int64_t r = 0; r < rows_pad; ++r) {  // padding rows repeat the last token's range
        const KeyRange& kr = ranges[std::min(r / group, tn - 1)];
        first[r] = static_cast<int32_t>(kr.first - kmin);
        last[r] = static_cast<int32_t>(kr.last - kmin);
      }
      // Qᵀ of the chunk, zero rows as padding (written row by row of Qᵀ: sequential stores).
      const float* qrow[kMaxChunkRows];
      for (int64_t r = 0; r < rows; ++r) qrow[r] = q + (t0 + r / group) * q_stride + (kvh * group + r % group) * d;
      for (int64_t c = 0; c < d; ++c) {
        float* dst = qt + c * rows_pad;
        for (int64_t r = 0; r < rows; ++r) dst[r] = qrow[r][c];
        std::fill(dst + rows, dst + rows_pad, 0.0f);
      }
      std::fill(row_max, row_max + rows_pad, -HUGE_VALF);
      std::fill(row_sum, row_sum + rows_pad, 0.0f);
      std::fill(ot, ot + rows_pad * d, 0.0f);
      for (int64_t jb = 0; jb < span; jb += score_block) {
        const int64_t je = std::min(span, jb + score_block);
        // Sᵀ = K · Qᵀ for keys [jb, je), per contiguous run of ring slots (at most two).
        for (int64_t j = jb; j < je;) {
          const int64_t pos = kmin + j, run = std::min(je - j, (pos / cap + 1) * cap - pos);
          ops::score_tile(qt, rows_pad, rows_pad, cache.k(l, pos) + kvh * d, kv_stride, run, d,
                          st + (j - jb) * rows_pad, rows_pad);
          j += run;
        }
        ops::softmax_cols(st, rows_pad, rows_pad, first, last, jb, je, row_max, row_sum, rescale);
        if (jb > 0) {  // earlier blocks' sums were taken against a smaller max
          for (int64_t r = 0; r < rows_pad; ++r) {
            for (int64_t c = 0; c < d; ++c) ot[r * d + c] *= rescale[r];
          }
        }
        // O += P · V in blocks of keys (split at the ring's wrap).
        for (int64_t j = jb; j < je;) {
          const int64_t pos = kmin + j, blk = std::min({je - j, kValueBlock, (pos / cap + 1) * cap - pos});
          ops::weighted_sum_cols(st + (j - jb) * rows_pad, rows_pad, rows_pad, cache.v(l, pos) + kvh * d, kv_stride,
                                 blk, ot, d, d);
          j += blk;
        }
      }
      for (int64_t r = 0; r < rows; ++r) {
        float* o = out + (t0 + r / group) * q_stride + (kvh * group + r % group) * d;
        const float* src = ot + r * d;
        const float inv_sum = 1.0f / row_sum[r];
        for (int64_t c = 0; c < d; ++c) o[c] = src[c] * inv_sum;
      }
    }
  });
}

}  // namespace pocket
