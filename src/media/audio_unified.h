// Gemma 4 12B "unified" encoder-free audio projection (projector "gemma4ua", multimodal spec appendix
// A): the decoder hears the raw waveform. Each soft token is one 40-ms frame of 640 samples at 16 kHz
// (the last frame zero-padded), RMS-normalised without weight (eps 1e-6) and projected into the text
// width by mm.a.input_projection {640, n_text}. No mel features, no conformer. As in llama.cpp's
// gemma4ua graph (details marked [U] in the spec).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "format/gguf.h"
#include "kernels/matmul.h"
#include "kernels/thread_pool.h"

namespace pocket {

constexpr int64_t kUnifiedAudioFrame = 640;  // samples per soft token (llama.cpp stores it as num_mel_bins)

// Soft tokens for n 16-kHz samples: min(750, ceil(n / 640)).
int64_t unified_audio_soft_tokens(int64_t samples);

class AudioUnifiedProjector {
 public:
  // Reads mm.a.input_projection of a gemma4ua mmproj (the file must outlive the projector).
  static Result<AudioUnifiedProjector> load(const GgufFile& mmproj);

  int64_t n_text() const { return proj_.rows; }
  int64_t frame() const { return proj_.cols; }

  // samples: one clip of mono 16-kHz audio (at most 30 s are used). Returns [n_soft][n_text].
  Result<std::vector<float>> encode(std::span<const float> samples, ThreadPool& pool) const;

 private:
  explicit AudioUnifiedProjector(WeightMatrix proj) : proj_(proj) {}
  WeightMatrix proj_;
};

}  // namespace pocket
