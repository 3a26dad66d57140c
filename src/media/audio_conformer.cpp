// Conformer blocks of the audio tower (spec §4.4) and the clipped linear they are built from.
#include <algorithm>
#include <cmath>

#include "kernels/ops.h"
#include "media/audio_tower.h"
#include "media/audio_tower_internal.h"

namespace pocket::audio_internal {
namespace {

float silu(float x) { return x / (1.0f + std::exp(-x)); }
float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

void clamp_range(float* x, int64_t n, float lo, float hi) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::min(std::max(x[i], lo), hi);
}

// RMS norm of every row of x [T][d] into y (in place allowed).
void rms_rows(const float* x, const std::vector<float>& w, float eps, int64_t T, int64_t d, float* y,
              ThreadPool& pool) {
  pool.parallel_for(T, 16, [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) ops::rms_norm(x + t * d, w, eps, d, y + t * d);
  });
}

// Macaron half-step FFN: x += 0.5 · post_norm(clip(down(silu(up(pre_norm(clip(x))))))). x: [T][d].
void feed_forward(const AudioTowerConfig& cfg, const std::vector<float>& pre_norm, const ClippedLinear& up,
                  const ClippedLinear& down, const std::vector<float>& post_norm, float* x, int64_t T, ThreadPool& pool,
                  AudioScratch& s) {
  const int64_t d = cfg.n_embd, ff = cfg.n_ff;
  s.b.assign(x, x + T * d);
  gradient_clip(s.b.data(), T * d);
  rms_rows(s.b.data(), pre_norm, cfg.eps, T, d, s.b.data(), pool);
  s.c.resize(static_cast<size_t>(T * ff));
  clipped_linear(up, s.b.data(), T, s.c.data(), pool, s);
  pool.parallel_for(T * ff, 4096, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) s.c[i] = silu(s.c[i]);
  });
  clipped_linear(down, s.c.data(), T, s.b.data(), pool, s);
  gradient_clip(s.b.data(), T * d);
  rms_rows(s.b.data(), post_norm, cfg.eps, T, d, s.b.data(), pool);
  for (int64_t i = 0; i < T * d; ++i) x[i] += 0.5f * s.b[i];
}

// Light convolution module: x += end(silu(conv_norm(clip(dwconv(glu(start(pre_norm(x)))))))). x: [T][d].
void light_conv(const AudioTowerConfig& cfg, const AudioBlockWeights& b, float* x, int64_t T, ThreadPool& pool,
                AudioScratch& s) {
  const int64_t d = cfg.n_embd, K = kAudioConvKernel;
  s.b.resize(static_cast<size_t>(T * d));
  rms_rows(x, b.lconv_pre_norm, cfg.eps, T, d, s.b.data(), pool);
  s.c.resize(static_cast<size_t>(T * 2 * d));
  clipped_linear(b.lconv_start, s.b.data(), T, s.c.data(), pool, s);
  // GLU over the last dim: first half · sigmoid(second half) → s.b [T][d].
  pool.parallel_for(T, 16, [&](int64_t tb, int64_t te, int) {
    for (int64_t t = tb; t < te; ++t) {
      const float* row = s.c.data() + t * 2 * d;
      for (int64_t i = 0; i < d; ++i) s.b[t * d + i] = row[i] * sigmoid(row[d + i]);
    }
  });
  // Causal depthwise conv over time: y[t][c] = Σ_k dw[c][k] · g[t − (K−1) + k][c] (left zero pad K−1).
  s.c.resize(static_cast<size_t>(T * d));
  pool.parallel_for(T, 16, [&](int64_t tb, int64_t te, int) {
    for (int64_t t = tb; t < te; ++t) {
      float* y = s.c.data() + t * d;
      for (int64_t c = 0; c < d; ++c) {
        const float* w = b.lconv_dw.data() + c * K;
        float acc = 0.0f;
        for (int64_t k = 0; k < K; ++k) {
          const int64_t ti = t - (K - 1) + k;
          if (ti >= 0) acc += w[k] * s.b[ti * d + c];
        }
        y[c] = acc;
      }
    }
  });
  gradient_clip(s.c.data(), T * d);
  rms_rows(s.c.data(), b.lconv_conv_norm, cfg.eps, T, d, s.c.data(), pool);
  for (int64_t i = 0; i < T * d; ++i) s.c[i] = silu(s.c[i]);
  clipped_linear(b.lconv_end, s.c.data(), T, s.b.data(), pool, s);
  for (int64_t i = 0; i < T * d; ++i) x[i] += s.b[i];
}

}  // namespace

void gradient_clip(float* x, int64_t n) { clamp_range(x, n, -kAudioGradientClip, kAudioGradientClip); }

void clipped_linear(const ClippedLinear& l, const float* x, int64_t n, float* y, ThreadPool& pool, AudioScratch& s) {
  const float* in = x;
  if (l.clamps_input()) {
    s.clamped.assign(x, x + n * l.w.cols);
    clamp_range(s.clamped.data(), n * l.w.cols, l.in_min, l.in_max);
    in = s.clamped.data();
  }
  matmul(l.w, in, n, y, l.w.rows, pool, s.mm);
  if (l.clamps_output()) clamp_range(y, n * l.w.rows, l.out_min, l.out_max);
}

void conformer_block(const AudioTowerConfig& cfg, const AudioBlockWeights& b, float* x, int64_t T,
                     std::span<const float> sinusoids, ThreadPool& pool, AudioScratch& s) {
  const int64_t d = cfg.n_embd;
  feed_forward(cfg, b.ffn1_pre_norm, b.ffn1_up, b.ffn1_down, b.ffn1_post_norm, x, T, pool, s);

  // Attention sub-block: x += post_norm(clip(attn(pre_norm(clip(x))))).
  std::vector<float> normed(x, x + T * d);
  gradient_clip(normed.data(), T * d);
  rms_rows(normed.data(), b.attn_pre_norm, cfg.eps, T, d, normed.data(), pool);
  std::vector<float> attn(static_cast<size_t>(T * d));
  audio_attention(cfg, b, normed.data(), T, sinusoids, attn.data(), pool, s);
  gradient_clip(attn.data(), T * d);
  rms_rows(attn.data(), b.attn_post_norm, cfg.eps, T, d, attn.data(), pool);
  for (int64_t i = 0; i < T * d; ++i) x[i] += attn[i];

  light_conv(cfg, b, x, T, pool, s);
  feed_forward(cfg, b.ffn2_pre_norm, b.ffn2_up, b.ffn2_down, b.ffn2_post_norm, x, T, pool, s);
  gradient_clip(x, T * d);
  rms_rows(x, b.out_norm, cfg.eps, T, d, x, pool);
}

}  // namespace pocket::audio_internal
