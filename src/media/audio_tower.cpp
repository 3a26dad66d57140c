#include "media/audio_tower.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/ops.h"
#include "media/audio_tower_internal.h"

namespace pocket {

int64_t audio_soft_tokens_for_frames(int64_t frames) {
  if (frames <= 0) return 0;
  const int64_t t1 = (frames + 1) / 2;
  return std::min(kAudioMaxSoftTokens, (t1 + 1) / 2);
}

int64_t audio_soft_tokens_for_samples(int64_t samples) {
  if (samples < 161) return 0;
  return audio_soft_tokens_for_frames((samples - 161) / 160 + 1);
}

Result<AudioTower> AudioTower::load(const GgufFile& mmproj) {
  auto cfg = read_audio_tower_config(mmproj);
  if (!cfg) return cfg.error();
  auto w = load_audio_tower_weights(mmproj, *cfg);
  if (!w) return w.error();
  return AudioTower(*cfg, std::move(*w));
}

Result<std::vector<float>> AudioTower::encode(std::span<const float> features, int64_t n_frames, ThreadPool& pool,
                                              AudioTowerTrace* trace) const {
  using namespace audio_internal;
  if (n_frames <= 0) return Error{"audio: no feature frames to encode (the recording is too short)"};
  if (features.size() < static_cast<size_t>(n_frames) * static_cast<size_t>(cfg_.n_mel)) {
    return Error{"audio: feature buffer holds " + std::to_string(features.size()) + " values, expected " +
                 std::to_string(n_frames) + " frames x " + std::to_string(cfg_.n_mel) + " bins"};
  }
  for (size_t i = 0; i < static_cast<size_t>(n_frames * cfg_.n_mel); ++i) {
    if (!std::isfinite(features[i])) return Error{"audio: feature value " + std::to_string(i) + " is not finite"};
  }
  const int64_t frames = std::min(n_frames, kAudioMaxFrames);
  const int64_t d = cfg_.n_embd;
  AudioScratch s;
  std::vector<float> x = subsample_features(cfg_, w_, features.data(), frames, pool, s);
  const int64_t T = static_cast<int64_t>(x.size()) / d;
  if (trace) trace->sscp = x;

  const std::vector<float> sinusoids = relative_position_sinusoids(d);
  for (const AudioBlockWeights& b : w_.blocks) {
    conformer_block(cfg_, b, x.data(), T, sinusoids, pool, s);
    if (trace) trace->blocks.push_back(x);
  }

  // output_proj (+bias) → [T][out_dim]; then the embedder: weightless RMS norm (or mm.a.soft_emb_norm),
  // projection into the text width.
  const int64_t od = cfg_.out_dim;
  std::vector<float> tower(static_cast<size_t>(T * od));
  clipped_linear(w_.output_proj, x.data(), T, tower.data(), pool, s);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t i = 0; i < od; ++i) tower[t * od + i] += w_.output_proj_bias[i];
  }
  if (trace) trace->tower = tower;
  for (int64_t t = 0; t < T; ++t)
    ops::rms_norm(tower.data() + t * od, w_.soft_emb_norm, cfg_.eps, od, tower.data() + t * od);
  std::vector<float> out(static_cast<size_t>(T * cfg_.n_text));
  clipped_linear(w_.mm_input_proj, tower.data(), T, out.data(), pool, s);
  const int64_t n_soft = audio_soft_tokens_for_frames(frames);
  out.resize(static_cast<size_t>(n_soft * cfg_.n_text));
  return out;
}

}  // namespace pocket
