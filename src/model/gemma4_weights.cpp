#include "model/gemma4_weights.h"

#include "model/tensor_loader.h"
#include "tensor/quants.h"

namespace pocket {
namespace {

// A 3-D expert tensor {cols, rows, n_expert} as one matrix of n_expert * rows rows.
ExpertWeights experts(TensorLoader& ld, const std::string& name, int64_t cols, int64_t rows, int64_t n_expert,
                      bool required = true) {
  const GgufTensorInfo* t = ld.get(name, {cols, rows, n_expert}, required);
  if (!t) return {};
  return {{t->type, t->data, cols, rows * n_expert, row_size(t->type, cols)}, rows};
}

}  // namespace

Result<Gemma4Weights> load_gemma4_weights(const GgufFile& f, Gemma4Config& cfg) {
  TensorLoader ld(f);
  Gemma4Weights w;
  const int64_t H = cfg.n_embd;
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  if (!emb) return Error{f.path() + ": missing tensor 'token_embd.weight'"};
  if (emb->ne.size() != 2 || emb->ne[0] != H) {
    return Error{f.path() + ": tensor 'token_embd.weight' has shape " + shape_str(emb->ne) + ", expected {" +
                 std::to_string(H) + ", n_vocab}"};
  }
  if (emb->ne[1] > (int64_t{1} << 24)) return Error{f.path() + ": vocabulary too large"};
  cfg.n_vocab = static_cast<int>(emb->ne[1]);
  const int64_t V = cfg.n_vocab;
  w.token_embd = ld.matrix("token_embd.weight", H, V);
  w.output = ld.matrix("output.weight", H, V, /*required=*/false);
  if (w.output.empty()) w.output = w.token_embd;
  w.output_norm = ld.vec("output_norm.weight", H);

  const int64_t P = cfg.ple_dim, L = cfg.n_layer;
  if (P > 0) {
    w.ple_token_embd = ld.matrix("per_layer_token_embd.weight", L * P, V);
    w.ple_model_proj = ld.matrix("per_layer_model_proj.weight", H, L * P);
    w.ple_proj_norm = ld.vec("per_layer_proj_norm.weight", P);
  }
  int global_head = 0;
  for (const auto& lc : cfg.layers) {
    if (lc.is_global) global_head = lc.head_dim;
  }
  if (global_head > 0) w.rope_freq_factors = ld.vec("rope_freqs.weight", global_head / 2, /*required=*/false);

  w.layers.resize(cfg.n_layer);
  for (int l = 0; l < cfg.n_layer && !ld.failed(); ++l) {
    const LayerConfig& lc = cfg.layers[l];
    Gemma4LayerWeights& lw = w.layers[l];
    const std::string p = "blk." + std::to_string(l) + ".";
    const int64_t d = lc.head_dim, q_out = int64_t{cfg.n_head} * d, kv_out = int64_t{lc.n_kv_heads} * d;
    lw.attn_norm = ld.vec(p + "attn_norm.weight", H);
    lw.wq = ld.matrix(p + "attn_q.weight", H, q_out);
    lw.q_norm = ld.vec(p + "attn_q_norm.weight", d);
    if (lc.owns_kv) {
      // Shared layers may carry unused k/v tensors (spec §8.5); they are deliberately not loaded.
      lw.wk = ld.matrix(p + "attn_k.weight", H, kv_out);
      lw.wv = ld.matrix(p + "attn_v.weight", H, kv_out, /*required=*/false);
      lw.k_norm = ld.vec(p + "attn_k_norm.weight", d);
    }
    lw.wo = ld.matrix(p + "attn_output.weight", q_out, H);
    lw.post_attn_norm = ld.vec(p + "post_attention_norm.weight", H);
    lw.ffn_norm = ld.vec(p + "ffn_norm.weight", H);
    lw.ffn_gate = ld.matrix(p + "ffn_gate.weight", H, lc.ffn_dim);
    lw.ffn_up = ld.matrix(p + "ffn_up.weight", H, lc.ffn_dim);
    lw.ffn_down = ld.matrix(p + "ffn_down.weight", lc.ffn_dim, H);
    lw.post_ffw_norm = ld.vec(p + "post_ffw_norm.weight", H);
    auto scale = ld.vec(p + "layer_output_scale.weight", 1, /*required=*/false);
    if (!scale.empty()) lw.out_scale = scale[0];

    if (cfg.n_expert > 0) {
      const int64_t E = cfg.n_expert, I = cfg.expert_ffn_dim;
      lw.router = ld.matrix(p + "ffn_gate_inp.weight", H, E, /*required=*/false);
      if (!lw.router.empty()) {
        lw.router_scale = ld.vec(p + "ffn_gate_inp.scale", H);
        lw.expert_scale = ld.vec(p + "ffn_down_exps.scale", E, /*required=*/false);
        lw.pre_ffw_norm_2 = ld.vec(p + "pre_ffw_norm_2.weight", H);
        lw.post_ffw_norm_1 = ld.vec(p + "post_ffw_norm_1.weight", H);
        lw.post_ffw_norm_2 = ld.vec(p + "post_ffw_norm_2.weight", H);
        lw.gate_up_exps = experts(ld, p + "ffn_gate_up_exps.weight", H, 2 * I, E, /*required=*/false);
        if (lw.gate_up_exps.empty()) {
          lw.gate_exps = experts(ld, p + "ffn_gate_exps.weight", H, I, E);
          lw.up_exps = experts(ld, p + "ffn_up_exps.weight", H, I, E);
        }
        lw.down_exps = experts(ld, p + "ffn_down_exps.weight", I, H, E);
      }
    }
    if (P > 0) {
      lw.ple_gate = ld.matrix(p + "inp_gate.weight", H, P);
      lw.ple_proj = ld.matrix(p + "proj.weight", P, H);
      lw.ple_post_norm = ld.vec(p + "post_norm.weight", H);
    }
  }
  if (ld.failed()) return Error{ld.error()};
  return w;
}

}  // namespace pocket
