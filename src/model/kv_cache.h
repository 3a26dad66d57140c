// Per-layer K/V storage for one conversation. Only KV-owning layers get storage; sliding layers keep a
// ring of window + ubatch positions (the most a batch can need), global layers keep the whole context.
#pragma once

#include <cstdint>
#include <vector>

#include "model/gemma4_config.h"

namespace pocket {

// Copies of the sliding-window rings at one position: what a conversation needs to continue from an
// earlier point after its rings have moved on (see Session::checkpoint).
struct SlidingSnapshot {
  int64_t pos = -1;                      // n_past when taken (-1: none)
  int64_t valid_end = -1;                // positions below this still hold the same tokens as the conversation
  std::vector<std::vector<float>> k, v;  // per layer: its ring, empty for layers without one
};

class KvCache {
 public:
  // n_ctx: maximum positions in the conversation; max_batch: largest batch evaluated at once.
  KvCache(const Gemma4Config& cfg, int n_ctx, int max_batch);

  int n_ctx() const { return n_ctx_; }
  // Ring capacity (positions) of the cache that `layer` reads (its source's for shared layers).
  int capacity(int layer) const { return layers_[source_[layer]].capacity; }
  // Row for position `pos` of `layer`'s cache: [n_kv_heads · head_dim] floats.
  float* k(int layer, int64_t pos) { return row(layer, pos, true); }
  float* v(int layer, int64_t pos) { return row(layer, pos, false); }
  const float* k(int layer, int64_t pos) const { return const_cast<KvCache*>(this)->row(layer, pos, true); }
  const float* v(int layer, int64_t pos) const { return const_cast<KvCache*>(this)->row(layer, pos, false); }

  // Floats between consecutive positions' rows (ring slots are contiguous until the ring wraps).
  int64_t row_stride(int layer) const { return layers_[source_[layer]].row_floats; }

  size_t bytes() const;

  // Saves / restores the rings of the layers whose storage is a sliding window smaller than the
  // context (global layers keep every position and need no copy).
  void save_sliding(int64_t pos, SlidingSnapshot& out) const;
  void restore_sliding(const SlidingSnapshot& snap);

 private:
  struct LayerStore {
    int capacity = 0;
    int64_t row_floats = 0;
    std::vector<float> k, v;  // [capacity][n_kv_heads · head_dim]
  };
  // Inline: attention calls this once per key and head.
  float* row(int layer, int64_t pos, bool key) {
    LayerStore& s = layers_[source_[layer]];
    const int64_t slot = pos % s.capacity;
    return (key ? s.k.data() : s.v.data()) + slot * s.row_floats;
  }

  int n_ctx_;
  std::vector<int> source_;  // layer → layer that owns the storage it reads
  std::vector<LayerStore> layers_;
};

}  // namespace pocket
