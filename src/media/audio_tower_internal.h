// Pieces of the audio tower shared between its source files (not a public interface).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/thread_pool.h"
#include "media/audio_weights.h"

namespace pocket::audio_internal {

// Buffers reused across the blocks of one encode() call.
struct AudioScratch {
  MatmulScratch mm;
  std::vector<float> clamped;  // clipped-linear input copy
  std::vector<float> a, b, c;  // [T][·] activations
  std::vector<float> q, k, v;  // [T][d]
  std::vector<float> rel;      // [kAudioContextLeft][d] projected relative positions
};

// y[n][l.w.rows] = clamp(W · clamp(x, in), out) for x[n][l.w.cols].
void clipped_linear(const ClippedLinear& l, const float* x, int64_t n, float* y, ThreadPool& pool, AudioScratch& s);

// Clamps to ±kAudioGradientClip (HF's gradient_clipping guard; a no-op for finite f32 data in practice).
void gradient_clip(float* x, int64_t n);

// LayerNorm over n values (mean-subtracting, weight only, no bias).
void layer_norm(const float* x, const float* w, float eps, int64_t n, float* y);

// SSCP (spec §4.3): features [n_frames][128] → [T2][d] with T2 = ceil(ceil(n_frames/2)/2).
std::vector<float> subsample_features(const AudioTowerConfig& cfg, const AudioTowerWeights& w, const float* features,
                                      int64_t n_frames, ThreadPool& pool, AudioScratch& s);

// Sinusoid rows for relative distances 0..kAudioContextLeft-1: row(dist) = [sin(dist·τ_i)..., cos(dist·τ_i)...],
// τ_i = exp(−i·ln(10000)/(d/2 − 1)), i < d/2. Returns [kAudioContextLeft][d].
std::vector<float> relative_position_sinusoids(int64_t d);

// Chunked causal local self-attention with relative positions (spec §4.5). x: [T][d] (already
// pre-normed), out: [T][d] after the `post` projection.
void audio_attention(const AudioTowerConfig& cfg, const AudioBlockWeights& b, const float* x, int64_t T,
                     std::span<const float> sinusoids, float* out, ThreadPool& pool, AudioScratch& s);

// One conformer block in place on x [T][d] (spec §4.4).
void conformer_block(const AudioTowerConfig& cfg, const AudioBlockWeights& b, float* x, int64_t T,
                     std::span<const float> sinusoids, ThreadPool& pool, AudioScratch& s);

}  // namespace pocket::audio_internal
