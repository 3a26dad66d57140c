// Gemma 4 audio tower (E2B/E4B, projector "gemma4a"): log-mel features [frames][128] → soft tokens
// [n_soft][n_text] for the decoder's <|audio|> placeholders (multimodal spec §4.3-§4.7).
//   SSCP: two 3×3 stride-2 convolutions (+ LayerNorm, ReLU), flatten, input projection   (§4.3)
//   12 conformer blocks: FFN½ → chunked causal local attention → light conv → FFN½ → norm  (§4.4-4.5)
//   output projection (+bias) → weightless RMS norm → projection into the text width        (§4.6)
// Every matrix product goes through the matmul kernels (any weight type, threaded).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "format/gguf.h"
#include "kernels/thread_pool.h"
#include "media/audio_weights.h"

namespace pocket {

// Chunked local attention constants (HF Gemma4AudioConfig; llama.cpp hard-codes them too).
constexpr int64_t kAudioChunkSize = 12;    // queries per block
constexpr int64_t kAudioContextLeft = 13;  // left context including self → past horizon 12
constexpr float kAudioLogitCap = 50.0f;
constexpr float kAudioGradientClip = 1e10f;   // HF's "gradient_clipping" clamp inside every block
constexpr int64_t kAudioMaxSoftTokens = 750;  // 30 s at 25 tokens per second
// Frames of a 30-s clip: floor((480000 − 161) / 160) + 1. Longer feature inputs are cut here, which is
// what HF's 480000-sample truncation does to the features (their first 2999 frames are unchanged).
constexpr int64_t kAudioMaxFrames = 2999;
constexpr int64_t kAudioMelBins = 128;

// Soft tokens for `frames` feature frames: min(750, ceil(ceil(T/2)/2)) (spec §4.7); 0 for T ≤ 0.
int64_t audio_soft_tokens_for_frames(int64_t frames);
// The same from a 16-kHz sample count: T = floor((N − 161)/160) + 1.
int64_t audio_soft_tokens_for_samples(int64_t samples);

// Intermediate activations of one encode() call.
struct AudioTowerTrace {
  std::vector<float> sscp;                 // [T2][d] after the input projection
  std::vector<std::vector<float>> blocks;  // per conformer block: [T2][d]
  std::vector<float> tower;                // [T2][out_dim] after output_proj (before the embedder)
};

class AudioTower {
 public:
  // Reads the config and weights of a gemma4a mmproj (the file must outlive the tower).
  static Result<AudioTower> load(const GgufFile& mmproj);

  const AudioTowerConfig& config() const { return cfg_; }
  int64_t n_text() const { return cfg_.n_text; }

  // features: [n_frames][128] row-major log-mel (n_frames ≥ 1; frames beyond kAudioMaxFrames are
  // ignored). Returns [n_soft][n_text], n_soft = audio_soft_tokens_for_frames(n_frames).
  // With `trace`, the intermediate stages are kept too (for comparisons against the reference).
  Result<std::vector<float>> encode(std::span<const float> features, int64_t n_frames, ThreadPool& pool,
                                    AudioTowerTrace* trace = nullptr) const;

 private:
  AudioTower(AudioTowerConfig cfg, AudioTowerWeights w) : cfg_(cfg), w_(std::move(w)) {}
  AudioTowerConfig cfg_;
  AudioTowerWeights w_;
};

}  // namespace pocket
