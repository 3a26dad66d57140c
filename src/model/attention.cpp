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

// Tiled path: a work item is one KV head, a chunk of tokens whose query heads sharing it make about
// kChunkRows rows (4 tokens × 8 heads on E2B), and a share of the chunk's keys. The rows sit in vector
// lanes (Qᵀ, Sᵀ), so the score, softmax and P·V kernels need no horizontal sums, and each key / value
// row is read once for all of the chunk's heads. Rows are padded with zero queries to a multiple of
// ops::kTileRowAlign. A chunk reads the union of its rows' key ranges (a few keys more than one row's
// window); keys outside a row's range get probability exactly 0, so no row's output depends on them.
// A chunk reads its keys in blocks of kScoreBlock with an online softmax, so its scores stay in L2
// however long the context (one block, a plain softmax, covers every sliding window and global spans
// up to kScoreBlock).
constexpr int64_t kChunkRows = 32;
constexpr int64_t kMaxChunkRows = 64;  // larger groups (never in Gemma 4) take the per-head path
constexpr int64_t kScoreBlock = 2048;  // 256 KiB of scores at 32 rows
// Keys per P·V call: its rows' accumulators are loaded and stored once per call, and the call's slice
// of V for one column chunk (32 keys × 64 values) stays in L1 while every row block reads it.
constexpr int64_t kValueBlock = 32;
// Too few chunks to occupy the threads (decode, small batches): each chunk's keys are split into
// shares of at least kMinSplitKeys keys, computed as separate work items and merged afterwards.
constexpr int64_t kMinSplitKeys = 256;
constexpr int64_t kMaxSplits = 16;

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// A chunk's tokens [t0, t0 + tn), its rows (tn · group) and the keys [kmin, kmin + span) they read.
struct ChunkGeometry {
  int64_t t0, tn, rows, kmin, span;
};

}  // namespace

void attention(const Gemma4Config& cfg, int l, const float* q, int64_t n, int64_t pos0, const KvCache& cache,
               float* out, ThreadPool& pool, ForwardScratch& s, std::span<const BatchMedia> media) {
  const LayerConfig& lc = cfg.layers[l];
  const int64_t d = lc.head_dim, nh = cfg.n_head, kvh_n = lc.n_kv_heads, group = nh / kvh_n;
  const int64_t q_stride = nh * d;
  const int64_t chunk_tokens = std::max<int64_t>(1, kChunkRows / group);
  const int64_t rows_pad = round_up(chunk_tokens * group, ops::kTileRowAlign);
  const bool tiled = rows_pad <= kMaxChunkRows;
  const int64_t n_chunks = (n + chunk_tokens - 1) / chunk_tokens;
  // Key shares per chunk: enough work items for every thread, when the keys allow it.
  const int64_t max_span = lc.is_global ? pos0 + n : std::min<int64_t>(pos0 + n, cfg.sliding_window + n);
  const int64_t splits =
      pool.size() == 1 || kvh_n * n_chunks >= 2 * pool.size()
          ? 1
          : std::clamp<int64_t>(
                std::min((2 * pool.size() + kvh_n * n_chunks - 1) / (kvh_n * n_chunks), max_span / kMinSplitKeys), 1,
                kMaxSplits);
  const int64_t n_items = kvh_n * n_chunks * splits;
  // Scratch per thread: one query's keys (per-head path), or a chunk's Qᵀ [d][rows_pad], Sᵀ of one key
  // block [score_block][rows_pad] (a chunk's key span never exceeds the ring capacity: window + batch,
  // or the whole context), its unnormalized outputs [rows_pad][d] and the softmax state [3][rows_pad].
  // With key shares, the outputs and running max / sum of every item go to one more buffer,
  // s.scores[pool.size()], to be merged.
  const int64_t cap = cache.capacity(l), score_block = std::min<int64_t>(cap, kScoreBlock);
  const int64_t per_thread = tiled ? rows_pad * (2 * d + score_block + 3) : cap;
  const int64_t per_item = rows_pad * (d + 2);
  s.scores.resize(std::max<size_t>(s.scores.size(), static_cast<size_t>(pool.size()) + 1));
  for (int t = 0; t < pool.size(); ++t) {
    if (static_cast<int64_t>(s.scores[t].size()) < per_thread) s.scores[t].resize(per_thread);
  }
  std::vector<float>& partials = s.scores[pool.size()];
  if (splits > 1 && static_cast<int64_t>(partials.size()) < n_items * per_item) partials.resize(n_items * per_item);

  if (!tiled) {
    // One work item per (token, head).
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

  // Row r of a chunk is token t0 + r / group, head kvh·group + r % group. Keys are indexed from the
  // chunk's first key kmin; a row reads keys [first[r], last[r]] of [0, span).
  auto chunk_geometry = [&](int64_t chunk, KeyRange* ranges) {
    ChunkGeometry g{chunk * chunk_tokens, std::min(chunk_tokens, n - chunk * chunk_tokens), 0, INT64_MAX, 0};
    g.rows = g.tn * group;
    int64_t kmax = -1;
    for (int64_t i = 0; i < g.tn; ++i) {
      ranges[i] = key_range(cfg, lc, g.t0 + i, pos0, media);
      g.kmin = std::min(g.kmin, ranges[i].first);
      kmax = std::max(kmax, ranges[i].last);
    }
    g.span = kmax - g.kmin + 1;
    return g;
  };
  auto out_row = [&](const ChunkGeometry& g, int64_t kvh, int64_t r) {
    return out + (g.t0 + r / group) * q_stride + (kvh * group + r % group) * d;
  };
  const int64_t kv_stride = cache.row_stride(l);
  pool.parallel_for(n_items, 1, [&](int64_t b, int64_t e, int thread) {
    float* qt = s.scores[thread].data();  // [d][rows_pad]
    float* st = qt + d * rows_pad;        // [score_block][rows_pad]
    int32_t first[kMaxChunkRows], last[kMaxChunkRows];
    KeyRange ranges[kMaxChunkRows];
    for (int64_t item = b; item < e; ++item) {
      // Latest chunks first: they read the most keys, and the pool hands out items in order.
      const int64_t kvh = item / (n_chunks * splits), chunk = n_chunks - 1 - item / splits % n_chunks;
      const int64_t split = item % splits;
      const ChunkGeometry g = chunk_geometry(chunk, ranges);
      float* ot = splits > 1 ? partials.data() + item * per_item : st + score_block * rows_pad;  // [rows_pad][d]
      float* row_max = ot + rows_pad * d;                                                        // [rows_pad] each
      float* row_sum = row_max + rows_pad;
      float* rescale = splits > 1 ? st + score_block * rows_pad : row_sum + rows_pad;
      for (int64_t r = 0; r < rows_pad; ++r) {  // padding rows repeat the last token's range
        const KeyRange& kr = ranges[std::min(r / group, g.tn - 1)];
        first[r] = static_cast<int32_t>(kr.first - g.kmin);
        last[r] = static_cast<int32_t>(kr.last - g.kmin);
      }
      // Qᵀ of the chunk, zero rows as padding.
      int32_t q_offset[kMaxChunkRows];
      for (int64_t r = 0; r < g.rows; ++r) {
        q_offset[r] = static_cast<int32_t>((r / group) * q_stride + (kvh * group + r % group) * d);
      }
      ops::gather_cols(q + g.t0 * q_stride, q_offset, g.rows, d, qt, rows_pad);
      if (g.rows < rows_pad) {
        for (int64_t c = 0; c < d; ++c) std::fill(qt + c * rows_pad + g.rows, qt + (c + 1) * rows_pad, 0.0f);
      }
      std::fill(row_max, row_max + rows_pad, -HUGE_VALF);
      std::fill(row_sum, row_sum + rows_pad, 0.0f);
      std::fill(ot, ot + rows_pad * d, 0.0f);
      // Rows the kernels run: the real ones rounded up to their 4-row blocks (score and softmax may run
      // whole vectors past them on wide targets; the scratch holds rows_pad).
      const int64_t tile_rows = round_up(g.rows, 4);
      const int64_t k_begin = g.span * split / splits, k_end = g.span * (split + 1) / splits;
      for (int64_t jb = k_begin; jb < k_end; jb += score_block) {
        const int64_t je = std::min(k_end, jb + score_block);
        // Sᵀ = K · Qᵀ for keys [jb, je), per contiguous run of ring slots (at most two).
        for (int64_t j = jb; j < je;) {
          const int64_t pos = g.kmin + j, run = std::min(je - j, (pos / cap + 1) * cap - pos);
          ops::score_tile(qt, rows_pad, tile_rows, cache.k(l, pos) + kvh * d, kv_stride, run, d,
                          st + (j - jb) * rows_pad, rows_pad);
          j += run;
        }
        ops::softmax_cols(st, rows_pad, tile_rows, first, last, jb, je, row_max, row_sum, rescale);
        if (jb > k_begin) {  // earlier blocks' sums were taken against a smaller max
          for (int64_t r = 0; r < tile_rows; ++r) {
            for (int64_t c = 0; c < d; ++c) ot[r * d + c] *= rescale[r];
          }
        }
        // O += P · V in blocks of keys (split at the ring's wrap).
        for (int64_t j = jb; j < je;) {
          const int64_t pos = g.kmin + j, blk = std::min({je - j, kValueBlock, (pos / cap + 1) * cap - pos});
          ops::weighted_sum_cols(st + (j - jb) * rows_pad, rows_pad, tile_rows, cache.v(l, pos) + kvh * d, kv_stride,
                                 blk, ot, d, d);
          j += blk;
        }
      }
      if (splits > 1) continue;  // merged below
      for (int64_t r = 0; r < g.rows; ++r) {
        float* o = out_row(g, kvh, r);
        const float* src = ot + r * d;
        const float inv_sum = 1.0f / row_sum[r];
        for (int64_t c = 0; c < d; ++c) o[c] = src[c] * inv_sum;
      }
    }
  });
  if (splits == 1) return;

  // Merge the key shares of each (KV head, chunk): out = Σ_s e^(m_s − M)·O_s / Σ_s e^(m_s − M)·Σ_s.
  pool.parallel_for(kvh_n * n_chunks, 1, [&](int64_t b, int64_t e, int) {
    KeyRange ranges[kMaxChunkRows];
    for (int64_t kc = b; kc < e; ++kc) {
      const int64_t kvh = kc / n_chunks, chunk = kc % n_chunks;
      const ChunkGeometry g = chunk_geometry(chunk, ranges);
      const float* base = partials.data() + (kvh * n_chunks + (n_chunks - 1 - chunk)) * splits * per_item;
      for (int64_t r = 0; r < g.rows; ++r) {
        float mx = -HUGE_VALF;
        for (int64_t sp = 0; sp < splits; ++sp) mx = std::max(mx, base[sp * per_item + rows_pad * d + r]);
        float* o = out_row(g, kvh, r);
        std::fill(o, o + d, 0.0f);
        float sum = 0.0f;
        for (int64_t sp = 0; sp < splits; ++sp) {
          const float* part = base + sp * per_item;
          const float m = part[rows_pad * d + r];
          if (m == -HUGE_VALF) continue;  // no key of this row in the share
          const float w = std::exp(m - mx);
          sum += w * part[rows_pad * d + rows_pad + r];
          for (int64_t c = 0; c < d; ++c) o[c] += w * part[r * d + c];
        }
        const float inv_sum = 1.0f / sum;
        for (int64_t c = 0; c < d; ++c) o[c] *= inv_sum;
      }
    }
  });
}

}  // namespace pocket
