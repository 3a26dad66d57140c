#include "media/audio_unified.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/ops.h"
#include "media/audio_tower.h"
#include "media/mmproj.h"
#include "tensor/quants.h"

namespace pocket {

int64_t unified_audio_soft_tokens(int64_t samples) {
  if (samples <= 0) return 0;
  return std::min(kAudioMaxSoftTokens, (samples + kUnifiedAudioFrame - 1) / kUnifiedAudioFrame);
}

Result<AudioUnifiedProjector> AudioUnifiedProjector::load(const GgufFile& f) {
  if (const GgufValue* pt = f.find("clip.audio.projector_type")) {
    const std::string* s = pt->as_string();
    if (!s || *s != "gemma4ua") {
      return Error{f.path() + ": audio projector is '" + (s ? *s : std::string("?")) + "', expected gemma4ua"};
    }
  }
  auto n_text = f.get_uint("clip.audio.projection_dim");
  if (!n_text) return n_text.error();
  if (*n_text == 0 || *n_text > (1u << 16)) {
    return Error{f.path() + ": clip.audio.projection_dim = " + std::to_string(*n_text) + " is out of range"};
  }
  MmprojTensorLoader ld(f, "audio tensor");
  const WeightMatrix proj =
      ld.matrix("mm.a.input_projection.weight", kUnifiedAudioFrame, static_cast<int64_t>(*n_text));
  if (ld.failed()) return Error{ld.error()};
  return AudioUnifiedProjector(proj);
}

Result<std::vector<float>> AudioUnifiedProjector::encode(std::span<const float> samples, ThreadPool& pool) const {
  const int64_t n = unified_audio_soft_tokens(static_cast<int64_t>(samples.size()));
  if (n == 0) return Error{"audio: the recording is empty"};
  const int64_t F = kUnifiedAudioFrame;
  // frames: [n][640], the last one zero-padded; then the weightless RMS norm over each frame.
  std::vector<float> frames(static_cast<size_t>(n * F), 0.0f);
  const int64_t used = std::min(static_cast<int64_t>(samples.size()), n * F);
  for (int64_t i = 0; i < used; ++i) {
    if (!std::isfinite(samples[i])) return Error{"audio: sample " + std::to_string(i) + " is not finite"};
    frames[i] = samples[i];
  }
  for (int64_t t = 0; t < n; ++t) ops::rms_norm(frames.data() + t * F, {}, 1e-6f, F, frames.data() + t * F);
  std::vector<float> out(static_cast<size_t>(n * proj_.rows));
  MatmulScratch scratch;
  matmul(proj_, frames.data(), n, out.data(), proj_.rows, pool, scratch);
  return out;
}

}  // namespace pocket
