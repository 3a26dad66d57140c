#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/ops.h"
#include "model/gemma4_blocks.h"

namespace pocket {

void moe_ffn(const Gemma4Config& cfg, const Gemma4LayerWeights& lw, const float* r1, const float* y, int64_t n,
             float* out, ThreadPool& pool, ForwardScratch& s) {
  const int64_t H = cfg.n_embd, E = cfg.n_expert, K = cfg.n_expert_used, I = cfg.expert_ffn_dim;
  // Router (spec §5): logits = W_router · (rms(r1) / √H ⊙ scale); softmax over all experts; top-k;
  // renormalise (sum clamped like llama.cpp); multiply by the learned per-expert scale.
  s.router_in.resize(n * H);
  s.router_logits.resize(n * E);
  const float inv_sqrt_h = 1.0f / std::sqrt(static_cast<float>(H));
  for (int64_t t = 0; t < n; ++t) {
    float* ri = s.router_in.data() + t * H;
    ops::rms_norm(r1 + t * H, {}, cfg.rms_eps, H, ri);
    for (int64_t i = 0; i < H; ++i) ri[i] = ri[i] * inv_sqrt_h * lw.router_scale[i];
  }
  matmul(lw.router, s.router_in.data(), n, s.router_logits.data(), E, pool, s.mm);
  s.expert_ids.resize(n * K);
  s.expert_w.resize(n * K);
  std::vector<int32_t> order(E);
  for (int64_t t = 0; t < n; ++t) {
    float* p = s.router_logits.data() + t * E;
    ops::softmax(p, E);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + K, order.end(), [&](int32_t a, int32_t b) {
      return p[a] > p[b] || (p[a] == p[b] && a < b);
    });
    float sum = 0.0f;
    for (int64_t k = 0; k < K; ++k) sum += p[order[k]];
    sum = std::max(sum, 6.103515625e-5f);
    for (int64_t k = 0; k < K; ++k) {
      const int32_t e = order[k];
      s.expert_ids[t * K + k] = e;
      s.expert_w[t * K + k] = p[e] / sum * (lw.expert_scale.empty() ? 1.0f : lw.expert_scale[e]);
    }
  }

  // Run each expert once over all tokens routed to it.
  std::fill(out, out + n * H, 0.0f);
  std::vector<int64_t> tok;
  std::vector<float> tok_w;
  for (int32_t e = 0; e < E; ++e) {
    tok.clear();
    tok_w.clear();
    for (int64_t i = 0; i < n * K; ++i) {
      if (s.expert_ids[i] == e) {
        tok.push_back(i / K);
        tok_w.push_back(s.expert_w[i]);
      }
    }
    if (tok.empty()) continue;
    const int64_t m = static_cast<int64_t>(tok.size());
    s.moe_in.resize(m * H);
    for (int64_t i = 0; i < m; ++i) std::copy_n(y + tok[i] * H, H, s.moe_in.data() + i * H);
    s.moe_gu.resize(m * 2 * I);
    s.moe_act.resize(m * I);
    if (!lw.gate_up_exps.empty()) {
      // Fused tensor: rows [0, I) are the gate, [I, 2I) the up projection.
      matmul(lw.gate_up_exps.expert(e), s.moe_in.data(), m, s.moe_gu.data(), 2 * I, pool, s.mm);
    } else {
      matmul(lw.gate_exps.expert(e), s.moe_in.data(), m, s.moe_gu.data(), 2 * I, pool, s.mm);
      matmul(lw.up_exps.expert(e), s.moe_in.data(), m, s.moe_gu.data() + I, 2 * I, pool, s.mm);
    }
    for (int64_t i = 0; i < m; ++i) {
      const float* gu = s.moe_gu.data() + i * 2 * I;
      ops::geglu(gu, gu + I, I, s.moe_act.data() + i * I);
    }
    s.moe_out.resize(m * H);
    matmul(lw.down_exps.expert(e), s.moe_act.data(), m, s.moe_out.data(), H, pool, s.mm);
    for (int64_t i = 0; i < m; ++i) ops::axpy(tok_w[i], s.moe_out.data() + i * H, out + tok[i] * H, H);
  }
}

}  // namespace pocket
