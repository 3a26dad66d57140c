// Chunked causal local self-attention of the audio conformer (spec §4.5).
//
// HF blocks the queries into chunks of 12, gathers a 24-key window per chunk and "rel-shifts" a
// [12 × 13] position product onto it; masked entries get −1e9 after the soft cap and vanish in the
// softmax. The net effect, computed here directly per query: query q sees keys k with 0 ≤ q − k ≤ 11,
//   logit(q, k) = 50·tanh((q̂·k̂ + q̂·R(q − k)) / 50),  q̂ = q·(1/√hd)/ln2·per_dim_scale,  k̂ = k·ln(1+e)/ln2,
// where R(dist) = relative_k_proj(sinusoid(dist)) split into heads.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "kernels/ops.h"
#include "media/audio_tower.h"
#include "media/audio_tower_internal.h"

namespace pocket::audio_internal {

std::vector<float> relative_position_sinusoids(int64_t d) {
  const int64_t half = d / 2;
  const double increment = std::log(10000.0) / static_cast<double>(std::max<int64_t>(half - 1, 1));
  std::vector<float> rows(static_cast<size_t>(kAudioContextLeft * d));
  for (int64_t dist = 0; dist < kAudioContextLeft; ++dist) {
    float* row = rows.data() + dist * d;
    for (int64_t i = 0; i < half; ++i) {
      // HF: inv_timescale in f32, position × inv_timescale in f32, then sin/cos.
      const float inv_timescale = static_cast<float>(std::exp(static_cast<double>(i) * -increment));
      const float t = static_cast<float>(dist) * inv_timescale;
      row[i] = std::sin(t);
      row[half + i] = std::cos(t);
    }
  }
  return rows;
}

void audio_attention(const AudioTowerConfig& cfg, const AudioBlockWeights& b, const float* x, int64_t T,
                     std::span<const float> sinusoids, float* out, ThreadPool& pool, AudioScratch& s) {
  const int64_t d = cfg.n_embd, H = cfg.n_head, hd = cfg.head_dim;
  const int64_t window = kAudioContextLeft - 1;  // keys at distance 0..11
  s.q.resize(static_cast<size_t>(T * d));
  s.k.resize(static_cast<size_t>(T * d));
  s.v.resize(static_cast<size_t>(T * d));
  s.rel.resize(static_cast<size_t>(kAudioContextLeft * d));
  clipped_linear(b.attn_q, x, T, s.q.data(), pool, s);
  clipped_linear(b.attn_k, x, T, s.k.data(), pool, s);
  clipped_linear(b.attn_v, x, T, s.v.data(), pool, s);
  clipped_linear(b.attn_k_rel, sinusoids.data(), kAudioContextLeft, s.rel.data(), pool, s);

  const float q_scale = static_cast<float>((1.0 / std::sqrt(static_cast<double>(hd))) / std::numbers::ln2);
  const float k_scale = static_cast<float>(std::log1p(std::numbers::e) / std::numbers::ln2);
  pool.parallel_for(T, 16, [&](int64_t tb, int64_t te, int) {
    for (int64_t t = tb; t < te; ++t) {
      for (int64_t i = 0; i < d; ++i) {
        const int64_t j = i % hd;
        s.q[t * d + i] *= q_scale * b.per_dim_scale[j];
        s.k[t * d + i] *= b.per_dim_k_scale.empty() ? k_scale : k_scale * b.per_dim_k_scale[j];
      }
    }
  });

  // attn: [T][d], head h in columns [h·hd, (h+1)·hd) (HF's concat of heads).
  std::vector<float>& attn = s.a;
  attn.assign(static_cast<size_t>(T * d), 0.0f);
  pool.parallel_for(T * H, 16, [&](int64_t jb, int64_t je, int) {
    float logits[kAudioContextLeft];
    for (int64_t job = jb; job < je; ++job) {
      const int64_t t = job / H, h = job % H;
      const float* qv = s.q.data() + t * d + h * hd;
      const int64_t k0 = std::max<int64_t>(0, t - window + 1);
      const int64_t n = t - k0 + 1;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t k = k0 + i;
        const float content = ops::dot_f32(qv, s.k.data() + k * d + h * hd, hd);
        const float position = ops::dot_f32(qv, s.rel.data() + (t - k) * d + h * hd, hd);
        logits[i] = content + position;
      }
      ops::softcap(logits, n, kAudioLogitCap);
      ops::softmax(logits, n);
      float* o = attn.data() + t * d + h * hd;
      for (int64_t i = 0; i < n; ++i) ops::axpy(logits[i], s.v.data() + (k0 + i) * d + h * hd, o, hd);
    }
  });
  clipped_linear(b.attn_out, attn.data(), T, out, pool, s);
}

}  // namespace pocket::audio_internal
