// The Gemma 4 decoder forward pass (spec §4), top to bottom. Shapes: n = tokens in the batch,
// H = n_embd, nh = query heads, d = this layer's head size, kv = its KV heads, F = its FFN width.
#include <algorithm>
#include <cmath>

#include "kernels/ops.h"
#include "model/gemma4_blocks.h"

namespace pocket {
namespace {

void grow(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
}

// Token rows per work item of the per-row steps (norms, RoPE, activations, residual adds). A prompt
// runs them on every thread: on the calling thread alone they took ~8% of a 512-token E2B prefill
// while the other threads waited. Decode-sized batches stay on the calling thread.
constexpr int64_t kRowGrain = 16;

// Tokens per slice of a prompt through the dense MLP (see mlp()).
constexpr int64_t kMlpTokens = 256;

// fn(t0, t1) over rows [0, n); each row's arithmetic is the same either way.
template <class Fn>
void for_rows(ThreadPool& pool, int64_t n, Fn&& fn) {
  if (n < 2 * kRowGrain || pool.size() == 1) return fn(int64_t{0}, n);
  pool.parallel_for(n, kRowGrain, [&](int64_t b, int64_t e, int) { fn(b, e); });
}

// y[i] += x[i] over n rows of width H.
void add_rows(float* y, const float* x, int64_t n, int64_t H, ThreadPool& pool) {
  for_rows(pool, n, [&](int64_t b, int64_t e) {
    for (int64_t i = b * H; i < e * H; ++i) y[i] += x[i];
  });
}

// cos/sin tables for NeoX RoPE at each row's position: [n][n_rot/2]. The angle is built as a
// running f32 product like ggml (θ_{i+1} = θ_i · base^(−2/n_rot)) and divided by the optional
// frequency factor (1e30 for the non-rotating pairs of proportional RoPE).
void rope_tables(const LayerConfig& lc, std::span<const float> freq_factors, std::span<const int64_t> positions,
                 std::vector<float>& cos_out, std::vector<float>& sin_out, ThreadPool& pool) {
  const int64_t pairs = lc.n_rot / 2, n = static_cast<int64_t>(positions.size());
  grow(cos_out, n * pairs);
  grow(sin_out, n * pairs);
  const float theta_scale = std::pow(lc.rope_base, -2.0f / static_cast<float>(lc.n_rot));
  for_rows(pool, n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float theta = static_cast<float>(positions[t]);
      for (int64_t i = 0; i < pairs; ++i) {
        const float ff = (lc.is_global && i < static_cast<int64_t>(freq_factors.size())) ? freq_factors[i] : 1.0f;
        const float angle = theta / ff;
        cos_out[t * pairs + i] = std::cos(angle);
        sin_out[t * pairs + i] = std::sin(angle);
        theta *= theta_scale;
      }
    }
  });
}

// Per-head RMSNorm (weight [d]) then RoPE, in place on x: [n][heads][d].
void norm_rope_heads(float* x, int64_t n, int64_t heads, int64_t d, std::span<const float> norm_w, float eps,
                     const LayerConfig& lc, const float* cos, const float* sin, ThreadPool& pool) {
  const int64_t pairs = lc.n_rot / 2;
  for_rows(pool, n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      for (int64_t h = 0; h < heads; ++h) {
        float* xh = x + (t * heads + h) * d;
        ops::rms_norm(xh, norm_w, eps, d, xh);
        ops::rope_neox(xh, pairs, cos + t * pairs, sin + t * pairs, pairs);
      }
    }
  });
}

void rms_norm_rows(const float* x, std::span<const float> w, float eps, int64_t n, int64_t width, float* y,
                   ThreadPool& pool) {
  for_rows(pool, n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) ops::rms_norm(x + t * width, w, eps, width, y + t * width);
  });
}

// Dense GeGLU MLP: out = W_down · (gelu(W_gate x) ⊙ W_up x). x: [n][H], out: [n][H].
void mlp(int64_t l, const WeightMatrix& gate, const WeightMatrix& up, const WeightMatrix& down, const float* x,
         int64_t n, float* out, ThreadPool& pool, ForwardScratch& s) {
  const int64_t F = gate.rows, H = down.rows;
  // The [n][F] intermediates are the largest prompt-time buffers (E2B's double-wide layers: 12288
  // floats per token, 25 MB each at 512 tokens), so long prompts pass through in slices of
  // kMlpTokens; each token's arithmetic is unchanged. With an observer (imatrix) every product is
  // seen once per forward, whole.
  const int64_t slice = s.observer ? n : std::min(n, kMlpTokens);
  grow(s.gate, slice * F);
  grow(s.up, slice * F);
  for (int64_t t0 = 0; t0 < n; t0 += slice) {
    const int64_t m = std::min(slice, n - t0);
    const float* xs = x + t0 * H;
    observe_matmul(s, l, "ffn_gate", xs, m, H);
    observe_matmul(s, l, "ffn_up", xs, m, H);
    const MatmulJob jobs[] = {{&gate, xs, m, s.gate.data(), F}, {&up, xs, m, s.up.data(), F}};
    matmul_many(jobs, pool, s.mm);
    // gelu(gate) ⊙ up, in place over gate.
    for_rows(pool, m, [&](int64_t b, int64_t e) {
      ops::geglu(s.gate.data() + b * F, s.up.data() + b * F, (e - b) * F, s.gate.data() + b * F);
    });
    observe_matmul(s, l, "ffn_down", s.gate.data(), m, F);
    matmul(down, s.gate.data(), m, out + t0 * H, H, pool, s.mm);
  }
}

}  // namespace

Status gemma4_forward(const Gemma4Model& m, std::span<const int32_t> tokens, int64_t pos0, KvCache& cache,
                      int logits_rows, float* logits, ThreadPool& pool, ForwardScratch& s,
                      std::span<const BatchMedia> media) {
  const SequenceSlice one{tokens, pos0, &cache, logits_rows, logits, media};
  return gemma4_forward_batch(m, std::span(&one, 1), pool, s);
}

Status gemma4_forward_batch(const Gemma4Model& m, std::span<const SequenceSlice> seqs, ThreadPool& pool,
                            ForwardScratch& s) {
  const Gemma4Config& cfg = m.config();
  const Gemma4Weights& w = m.weights();
  const int64_t H = cfg.n_embd, nh = cfg.n_head, L = cfg.n_layer;
  // Rows of all sequences, back to back: sequence i owns rows [row0[i], row0[i] + n_i).
  std::vector<int64_t>& row0 = s.seq_row0;
  row0.assign(seqs.size() + 1, 0);
  s.tokens.clear();
  s.positions.clear();
  int64_t total_logits = 0;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const SequenceSlice& q = seqs[i];
    const int64_t n = static_cast<int64_t>(q.tokens.size());
    if (n == 0) return Error{"empty token batch"};
    if (q.pos0 + n > q.cache->n_ctx()) {
      return Error{"context full: " + std::to_string(q.pos0 + n) + " positions needed, context size is " +
                   std::to_string(q.cache->n_ctx())};
    }
    for (int32_t t : q.tokens) {
      if (t < 0 || t >= cfg.n_vocab) {
        return Error{"token id " + std::to_string(t) + " is out of range (vocabulary has " +
                     std::to_string(cfg.n_vocab) + " tokens)"};
      }
    }
    int64_t media_end = 0;
    for (const BatchMedia& b : q.media) {
      if (b.offset < media_end || b.n <= 0 || b.offset + b.n > n || b.rows == nullptr) {
        return Error{"media rows [" + std::to_string(b.offset) + ", " + std::to_string(b.offset + b.n) +
                     ") do not fit the batch of " + std::to_string(n) + " tokens in order"};
      }
      media_end = b.offset + b.n;
    }
    row0[i + 1] = row0[i] + n;
    s.tokens.insert(s.tokens.end(), q.tokens.begin(), q.tokens.end());
    for (int64_t t = 0; t < n; ++t) s.positions.push_back(q.pos0 + t);
    total_logits += std::min<int64_t>(std::max(q.logits_rows, 0), n);
  }
  const int64_t n = row0.back();
  const std::span<const int32_t> tokens(s.tokens);

  // 1. Embeddings, scaled by √H (exact f32, as llama.cpp); media rows are copied unscaled.  x: [n][H]
  grow(s.x, n * H);
  const float embd_scale = std::sqrt(static_cast<float>(H));
  for_rows(pool, n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float* xt = s.x.data() + t * H;
      dequantize_matrix_row(w.token_embd, tokens[t], xt);
      for (int64_t i = 0; i < H; ++i) xt[i] *= embd_scale;
    }
  });
  s.ple_tokens.assign(tokens.begin(), tokens.end());
  for (size_t i = 0; i < seqs.size(); ++i) {
    for (const BatchMedia& b : seqs[i].media) {
      std::copy_n(b.rows, b.n * H, s.x.data() + (row0[i] + b.offset) * H);
      std::fill_n(s.ple_tokens.begin() + row0[i] + b.offset, b.n, 0);  // PLE token part: pad row at media
    }
  }
  // 2. Per-layer inputs (E2B/E4B).  pli: [n][L][P]
  if (cfg.ple_dim > 0) {
    grow(s.pli, n * L * cfg.ple_dim);
    ple_inputs(cfg, w, s.ple_tokens, s.x.data(), s.pli.data(), pool, s);
  }

  int64_t max_q = 0, max_kv = 0, max_f = 0;
  for (const auto& lc : cfg.layers) {
    max_q = std::max<int64_t>(max_q, nh * lc.head_dim);
    max_kv = std::max<int64_t>(max_kv, int64_t{lc.n_kv_heads} * lc.head_dim);
    max_f = std::max<int64_t>(max_f, lc.ffn_dim);
  }
  grow(s.a, n * H);
  grow(s.q, n * max_q);
  grow(s.k, n * max_kv);
  grow(s.v, n * max_kv);
  grow(s.o, n * max_q);
  grow(s.attn, n * H);
  grow(s.ffn, n * H);
  grow(s.ffn2, n * H);

  std::vector<float>& rc = s.rope_cos;
  std::vector<float>& rsn = s.rope_sin;
  for (int64_t l = 0; l < L; ++l) {
    const LayerConfig& lc = cfg.layers[l];
    const Gemma4LayerWeights& lw = w.layers[l];
    const int64_t d = lc.head_dim, kvh = lc.n_kv_heads;
    float* x = s.x.data();

    // --- attention ---
    rms_norm_rows(x, lw.attn_norm, cfg.rms_eps, n, H, s.a.data(), pool);  // a: [n][H]
    rope_tables(lc, w.rope_freq_factors, s.positions, rc, rsn, pool);
    // q: [n][nh][d], kraw / v: [n][kv][d]; the projections of one input go to the threads together.
    MatmulJob qkv[3] = {{&lw.wq, s.a.data(), n, s.q.data(), nh * d}};
    size_t n_qkv = 1;
    if (lc.owns_kv) qkv[n_qkv++] = {&lw.wk, s.a.data(), n, s.k.data(), kvh * d};
    if (lc.owns_kv && !lw.wv.empty()) qkv[n_qkv++] = {&lw.wv, s.a.data(), n, s.v.data(), kvh * d};
    observe_matmul(s, l, "attn_q", s.a.data(), n, H);
    if (lc.owns_kv) observe_matmul(s, l, "attn_k", s.a.data(), n, H);
    if (lc.owns_kv && !lw.wv.empty()) observe_matmul(s, l, "attn_v", s.a.data(), n, H);
    matmul_many(std::span<const MatmulJob>(qkv, n_qkv), pool, s.mm);
    norm_rope_heads(s.q.data(), n, nh, d, lw.q_norm, cfg.rms_eps, lc, rc.data(), rsn.data(), pool);
    if (lc.owns_kv) {
      if (lw.wv.empty()) std::copy_n(s.k.data(), n * kvh * d, s.v.data());  // k_eq_v: V = raw K projection
      norm_rope_heads(s.k.data(), n, kvh, d, lw.k_norm, cfg.rms_eps, lc, rc.data(), rsn.data(), pool);
      for (size_t i = 0; i < seqs.size(); ++i) {
        for (int64_t t = row0[i]; t < row0[i + 1]; ++t) {
          float* vt = s.v.data() + t * kvh * d;
          for (int64_t h = 0; h < kvh; ++h) ops::rms_norm(vt + h * d, {}, cfg.rms_eps, d, vt + h * d);  // v_norm
          std::copy_n(s.k.data() + t * kvh * d, kvh * d, seqs[i].cache->k(static_cast<int>(l), s.positions[t]));
          std::copy_n(vt, kvh * d, seqs[i].cache->v(static_cast<int>(l), s.positions[t]));
        }
      }
    }
    for (size_t i = 0; i < seqs.size(); ++i) {  // o: [n][nh·d], each sequence over its own cache
      const int64_t r = row0[i];
      attention(cfg, static_cast<int>(l), s.q.data() + r * nh * d, row0[i + 1] - r, seqs[i].pos0, *seqs[i].cache,
                s.o.data() + r * nh * d, pool, s, seqs[i].media);
    }
    observe_matmul(s, l, "attn_output", s.o.data(), n, nh * d);
    matmul(lw.wo, s.o.data(), n, s.attn.data(), H, pool, s.mm);  // attn: [n][H]
    rms_norm_rows(s.attn.data(), lw.post_attn_norm, cfg.rms_eps, n, H, s.attn.data(), pool);
    add_rows(x, s.attn.data(), n, H, pool);  // x = r1

    // --- feed-forward ---
    rms_norm_rows(x, lw.ffn_norm, cfg.rms_eps, n, H, s.a.data(), pool);
    mlp(l, lw.ffn_gate, lw.ffn_up, lw.ffn_down, s.a.data(), n, s.ffn.data(), pool, s);
    if (lw.is_moe()) {
      // Dense "shared" MLP and the experts run in parallel; each gets its own post-norm, then the sum
      // gets post_ffw_norm.
      rms_norm_rows(s.ffn.data(), lw.post_ffw_norm_1, cfg.rms_eps, n, H, s.ffn.data(), pool);
      rms_norm_rows(x, lw.pre_ffw_norm_2, cfg.rms_eps, n, H, s.a.data(), pool);
      moe_ffn(cfg, lw, static_cast<int>(l), x, s.a.data(), n, s.ffn2.data(), pool, s);
      rms_norm_rows(s.ffn2.data(), lw.post_ffw_norm_2, cfg.rms_eps, n, H, s.ffn2.data(), pool);
      add_rows(s.ffn.data(), s.ffn2.data(), n, H, pool);
    }
    rms_norm_rows(s.ffn.data(), lw.post_ffw_norm, cfg.rms_eps, n, H, s.ffn.data(), pool);
    add_rows(x, s.ffn.data(), n, H, pool);  // x = r2

    // --- per-layer embedding injection ---
    if (cfg.ple_dim > 0) {
      const int64_t P = cfg.ple_dim;
      grow(s.ple_gate, n * P);
      observe_matmul(s, l, "inp_gate", x, n, H);
      matmul(lw.ple_gate, x, n, s.ple_gate.data(), P, pool, s.mm);  // g: [n][P]
      for_rows(pool, n, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          float* g = s.ple_gate.data() + t * P;
          const float* pl = s.pli.data() + (t * L + l) * P;
          for (int64_t i = 0; i < P; ++i) g[i] = ops::gelu_tanh(g[i]) * pl[i];
        }
      });
      observe_matmul(s, l, "proj", s.ple_gate.data(), n, P);
      matmul(lw.ple_proj, s.ple_gate.data(), n, s.ffn.data(), H, pool, s.mm);  // u: [n][H]
      rms_norm_rows(s.ffn.data(), lw.ple_post_norm, cfg.rms_eps, n, H, s.ffn.data(), pool);
      add_rows(x, s.ffn.data(), n, H, pool);  // x = r3
    }
    // --- layer scalar: multiplies the whole residual stream ---
    if (lw.out_scale != 1.0f) {
      for_rows(pool, n, [&](int64_t b, int64_t e) {
        for (int64_t i = b * H; i < e * H; ++i) x[i] *= lw.out_scale;
      });
    }
  }

  // Output: final norm, tied head, soft-cap; only for the rows asked for (each sequence's last
  // logits_rows), gathered so the head runs once for the whole batch.
  if (total_logits > 0) {
    grow(s.ffn, total_logits * H);
    int64_t g = 0;
    for (size_t i = 0; i < seqs.size(); ++i) {
      const int64_t rows = std::min<int64_t>(std::max(seqs[i].logits_rows, 0), row0[i + 1] - row0[i]);
      std::copy_n(s.x.data() + (row0[i + 1] - rows) * H, rows * H, s.ffn.data() + g * H);
      g += rows;
    }
    rms_norm_rows(s.ffn.data(), w.output_norm, cfg.rms_eps, total_logits, H, s.a.data(), pool);
    const int64_t V = cfg.n_vocab;
    float* out = seqs.size() == 1 ? seqs[0].logits : (grow(s.logits, total_logits * V), s.logits.data());
    matmul(w.output, s.a.data(), total_logits, out, V, pool, s.mm);
    if (cfg.final_softcap > 0.0f) ops::softcap(out, total_logits * V, cfg.final_softcap);
    if (seqs.size() > 1) {
      g = 0;
      for (const SequenceSlice& q : seqs) {
        const int64_t rows = std::min<int64_t>(std::max(q.logits_rows, 0), static_cast<int64_t>(q.tokens.size()));
        std::copy_n(out + g * V, rows * V, q.logits);
        g += rows;
      }
    }
  }
  return {};
}

}  // namespace pocket
