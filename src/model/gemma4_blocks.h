// Pieces of the Gemma 4 layer that are large enough to read on their own: attention over the KV cache,
// the mixture-of-experts block and the per-layer-embedding (PLE) inputs. Called by gemma4_forward.cpp.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "model/gemma4_model.h"

namespace pocket {

// Causal (and, for sliding layers, windowed) attention for n queries at positions [pos0, pos0+n).
// q: [n][n_head·d] (normed, rotated); keys/values come from the cache of layer `l`'s source.
// out: [n][n_head·d]. Scale 1.0 (q_norm/k_norm replace 1/√d), f32 softmax. On sliding layers a query
// inside a bidirectional media block also sees the later keys of its block (still within the window).
void attention(const Gemma4Config& cfg, int l, const float* q, int64_t n, int64_t pos0, const KvCache& cache,
               float* out, ThreadPool& pool, ForwardScratch& s, std::span<const BatchMedia> media = {});

// MoE branch for n tokens: routes r1 ([n][H], residual after attention) and runs the selected experts
// on y ([n][H], pre_ffw_norm_2(r1)). out: [n][H] = Σ_k w_k · expert_k(y).
void moe_ffn(const Gemma4Config& cfg, const Gemma4LayerWeights& lw, int layer, const float* r1, const float* y,
             int64_t n, float* out, ThreadPool& pool, ForwardScratch& s);

// Per-layer inputs pli: [n][L][P] from token ids and the scaled embeddings h0 ([n][H]) (spec §4.2).
void ple_inputs(const Gemma4Config& cfg, const Gemma4Weights& w, std::span<const int32_t> tokens, const float* h0,
                float* pli, ThreadPool& pool, ForwardScratch& s);

// Tells s.observer (if any) that rows x ([n][cols]) enter weight "blk.<l>.<what>.weight" (expert e of
// n_expert for a 3-D expert tensor).
inline void observe_matmul(ForwardScratch& s, int64_t l, const char* what, const float* x, int64_t n, int64_t cols,
                           int expert = -1, int n_expert = 1) {
  if (s.observer) {
    s.observer->observe("blk." + std::to_string(l) + "." + what + ".weight", expert, n_expert, x, n, cols);
  }
}

}  // namespace pocket
