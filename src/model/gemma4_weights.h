// Gemma 4 weights addressed by their GGUF tensor names (spec §8.3), shape-checked against the config.
// Matrices stay in the mapped file; 1-D tensors (norms, scales) are decoded to owned f32 vectors.
#pragma once

#include <memory>
#include <vector>

#include "common/result.h"
#include "format/gguf.h"
#include "kernels/matmul.h"
#include "model/gemma4_config.h"

namespace pocket {

// 3-D expert tensor {cols, rows_per_expert, n_expert}: expert e is rows [e·rows, (e+1)·rows).
struct ExpertWeights {
  WeightMatrix all;  // rows = rows_per_expert · n_expert
  int64_t rows_per_expert = 0;
  WeightMatrix expert(int e) const { return all.slice_rows(e * rows_per_expert, rows_per_expert); }
  bool empty() const { return all.empty(); }
};

struct Gemma4LayerWeights {
  std::vector<float> attn_norm, q_norm, k_norm, post_attn_norm;   // [H], [d], [d], [H]
  WeightMatrix wq, wk, wv, wo;                                   // wk/wv empty on KV-shared layers; wv empty ⇒ V = K proj
  std::vector<float> ffn_norm, post_ffw_norm;                    // [H]
  WeightMatrix ffn_gate, ffn_up, ffn_down;                       // dense / shared-expert MLP
  float out_scale = 1.0f;                                        // layer_output_scale (1 if absent)
  // MoE (26B-A4B): router, expert FFNs and their three extra norms.
  WeightMatrix router;                                           // {H, n_expert}
  std::vector<float> router_scale, expert_scale;                 // [H], [n_expert]
  std::vector<float> pre_ffw_norm_2, post_ffw_norm_1, post_ffw_norm_2;
  ExpertWeights gate_up_exps;                                    // fused: rows 0..I-1 gate, I..2I-1 up
  ExpertWeights gate_exps, up_exps;                              // split form
  ExpertWeights down_exps;                                       // {I, H, n_expert}
  // Per-layer embeddings (E2B/E4B).
  WeightMatrix ple_gate, ple_proj;                               // {H, P}, {P, H}
  std::vector<float> ple_post_norm;                              // [H]

  bool is_moe() const { return !router.empty(); }
};

struct Gemma4Weights {
  WeightMatrix token_embd;   // {H, V}
  WeightMatrix output;       // {H, V}: token_embd when tied
  std::vector<float> output_norm;
  std::vector<float> rope_freq_factors;  // [global head_dim / 2], empty if absent
  WeightMatrix ple_token_embd;            // {L·P, V}
  WeightMatrix ple_model_proj;            // {H, L·P}
  std::vector<float> ple_proj_norm;       // [P]
  std::vector<Gemma4LayerWeights> layers;
};

// Looks up every tensor the config calls for; errors name the missing or mis-shaped tensor.
// Also sets cfg.n_vocab from token_embd.
Result<Gemma4Weights> load_gemma4_weights(const GgufFile& f, Gemma4Config& cfg);

}  // namespace pocket
