#include "model/kv_cache.h"

#include <algorithm>

namespace pocket {

KvCache::KvCache(const Gemma4Config& cfg, int n_ctx, int max_batch) : n_ctx_(n_ctx) {
  layers_.resize(cfg.n_layer);
  source_.resize(cfg.n_layer);
  for (int l = 0; l < cfg.n_layer; ++l) {
    const LayerConfig& lc = cfg.layers[l];
    source_[l] = lc.kv_source;
    if (!lc.owns_kv) continue;  // shared layers allocate nothing
    LayerStore& s = layers_[l];
    s.capacity = lc.is_global ? n_ctx : std::min(n_ctx, cfg.sliding_window + max_batch);
    s.row_floats = int64_t{lc.n_kv_heads} * lc.head_dim;
    s.k.assign(static_cast<size_t>(s.capacity * s.row_floats), 0.0f);
    s.v.assign(static_cast<size_t>(s.capacity * s.row_floats), 0.0f);
  }
}

void KvCache::save_sliding(int64_t pos, SlidingSnapshot& out) const {
  out.pos = pos;
  out.valid_end = pos;
  out.k.resize(layers_.size());
  out.v.resize(layers_.size());
  for (size_t l = 0; l < layers_.size(); ++l) {
    const LayerStore& s = layers_[l];
    if (s.capacity == 0 || s.capacity >= n_ctx_) continue;
    out.k[l] = s.k;
    out.v[l] = s.v;
  }
}

void KvCache::restore_sliding(const SlidingSnapshot& snap) {
  for (size_t l = 0; l < layers_.size() && l < snap.k.size(); ++l) {
    if (snap.k[l].empty()) continue;
    std::copy(snap.k[l].begin(), snap.k[l].end(), layers_[l].k.begin());
    std::copy(snap.v[l].begin(), snap.v[l].end(), layers_[l].v.begin());
  }
}

size_t KvCache::bytes() const {
  size_t b = 0;
  for (const auto& s : layers_) b += (s.k.size() + s.v.size()) * sizeof(float);
  return b;
}

}  // namespace pocket
