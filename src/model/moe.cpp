#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/ops.h"
#include "model/gemma4_blocks.h"

namespace pocket {
namespace {

// Decode (a few tokens): the routed experts' gate/up products go to the threads as one group, then
// their down products as another, instead of two or three pool passes per expert.
// y: [n][H] expert input; out: [n][H] += Σ_k w_k · expert_k(y).
void experts_decode(const Gemma4LayerWeights& lw, const float* y, int64_t n, int64_t K, int64_t H, int64_t I,
                    float* out, ThreadPool& pool, ForwardScratch& s) {
  const int64_t R = n * K;  // (token, expert) pairs, each its own product
  s.moe_gu.resize(R * 2 * I);
  s.moe_act.resize(R * I);
  s.moe_out.resize(R * H);
  s.moe_weights.resize(2 * R);  // sized before jobs take pointers into it
  std::vector<MatmulJob>& jobs = s.moe_jobs;
  jobs.clear();
  for (int64_t i = 0; i < R; ++i) {
    const int32_t e = s.expert_ids[i];
    const float* xi = y + (i / K) * H;
    float* gu = s.moe_gu.data() + i * 2 * I;
    if (!lw.gate_up_exps.empty()) {
      // Fused tensor: rows [0, I) are the gate, [I, 2I) the up projection.
      s.moe_weights[2 * i] = lw.gate_up_exps.expert(e);
      jobs.push_back({&s.moe_weights[2 * i], xi, 1, gu, 2 * I});
    } else {
      s.moe_weights[2 * i] = lw.gate_exps.expert(e);
      s.moe_weights[2 * i + 1] = lw.up_exps.expert(e);
      jobs.push_back({&s.moe_weights[2 * i], xi, 1, gu, 2 * I});
      jobs.push_back({&s.moe_weights[2 * i + 1], xi, 1, gu + I, 2 * I});
    }
  }
  matmul_many(jobs, pool, s.mm);
  jobs.clear();
  for (int64_t i = 0; i < R; ++i) {
    const float* gu = s.moe_gu.data() + i * 2 * I;
    ops::geglu(gu, gu + I, I, s.moe_act.data() + i * I);
    s.moe_weights[2 * i] = lw.down_exps.expert(s.expert_ids[i]);
    jobs.push_back({&s.moe_weights[2 * i], s.moe_act.data() + i * I, 1, s.moe_out.data() + i * H, H});
  }
  matmul_many(jobs, pool, s.mm);
  // Summed in ascending expert id, the order of the prefill path, so decode and prefill agree exactly.
  std::vector<int64_t>& order = s.moe_order;
  order.resize(static_cast<size_t>(K));
  for (int64_t t = 0; t < n; ++t) {
    std::iota(order.begin(), order.end(), t * K);
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s.expert_ids[a] < s.expert_ids[b]; });
    for (const int64_t i : order) ops::axpy(s.expert_w[i], s.moe_out.data() + i * H, out + t * H, H);
  }
}

}  // namespace

void moe_ffn(const Gemma4Config& cfg, const Gemma4LayerWeights& lw, int layer, const float* r1, const float* y,
             int64_t n, float* out, ThreadPool& pool, ForwardScratch& s) {
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
  observe_matmul(s, layer, "ffn_gate_inp", s.router_in.data(), n, H);
  matmul(lw.router, s.router_in.data(), n, s.router_logits.data(), E, pool, s.mm);
  s.expert_ids.resize(n * K);
  s.expert_w.resize(n * K);
  std::vector<int32_t> order(E);
  for (int64_t t = 0; t < n; ++t) {
    float* p = s.router_logits.data() + t * E;
    ops::softmax(p, E);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + K, order.end(),
                      [&](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
    float sum = 0.0f;
    for (int64_t k = 0; k < K; ++k) sum += p[order[k]];
    sum = std::max(sum, 6.103515625e-5f);
    for (int64_t k = 0; k < K; ++k) {
      const int32_t e = order[k];
      s.expert_ids[t * K + k] = e;
      s.expert_w[t * K + k] = p[e] / sum * (lw.expert_scale.empty() ? 1.0f : lw.expert_scale[e]);
    }
  }

  std::fill(out, out + n * H, 0.0f);
  // (With an observer, every batch takes the per-expert path below, which reports each expert's rows.)
  if (n < 4 && !s.observer) return experts_decode(lw, y, n, K, H, I, out, pool, s);
  // Run each expert once over all tokens routed to it.
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
      observe_matmul(s, layer, "ffn_gate_up_exps", s.moe_in.data(), m, H, e, static_cast<int>(E));
      // Fused tensor: rows [0, I) are the gate, [I, 2I) the up projection.
      matmul(lw.gate_up_exps.expert(e), s.moe_in.data(), m, s.moe_gu.data(), 2 * I, pool, s.mm);
    } else {
      observe_matmul(s, layer, "ffn_gate_exps", s.moe_in.data(), m, H, e, static_cast<int>(E));
      observe_matmul(s, layer, "ffn_up_exps", s.moe_in.data(), m, H, e, static_cast<int>(E));
      matmul(lw.gate_exps.expert(e), s.moe_in.data(), m, s.moe_gu.data(), 2 * I, pool, s.mm);
      matmul(lw.up_exps.expert(e), s.moe_in.data(), m, s.moe_gu.data() + I, 2 * I, pool, s.mm);
    }
    for (int64_t i = 0; i < m; ++i) {
      const float* gu = s.moe_gu.data() + i * 2 * I;
      ops::geglu(gu, gu + I, I, s.moe_act.data() + i * I);
    }
    s.moe_out.resize(m * H);
    observe_matmul(s, layer, "ffn_down_exps", s.moe_act.data(), m, I, e, static_cast<int>(E));
    matmul(lw.down_exps.expert(e), s.moe_act.data(), m, s.moe_out.data(), H, pool, s.mm);
    for (int64_t i = 0; i < m; ++i) ops::axpy(tok_w[i], s.moe_out.data() + i * H, out + tok[i] * H, H);
  }
}

}  // namespace pocket
