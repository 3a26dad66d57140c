// Recording → soft-token blocks for the decoder: decode (any container, rate, channel count) →
// split into clips of at most 30 s (audio_clips.h: no overlap, cuts in quiet moments) → per clip,
// the audio tower of the mmproj: the gemma4a conformer on log-mel features (E2B/E4B) or the 12B's
// encoder-free gemma4ua projection on the raw waveform. Each clip becomes its own
// <|audio> … <audio|> block in the prompt, in recording order (spec §4.8).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "kernels/thread_pool.h"
#include "media/audio_tower.h"
#include "media/audio_unified.h"
#include "media/mmproj.h"

namespace pocket {

// One clip's soft tokens: rows [n_tokens][n_text].
struct AudioClipEmbedding {
  int64_t start_sample = 0;  // clip start in the 16-kHz recording
  int64_t n_samples = 0;
  int64_t n_tokens = 0;
  std::vector<float> rows;
};

class AudioEncoder {
 public:
  // The audio tower of `mmproj` (error when the file has none). Keeps the file mapped.
  static Result<AudioEncoder> load(const MmprojFile& mmproj);

  int64_t n_text() const;
  bool unified() const { return unified_.has_value(); }

  // Soft tokens encode_samples() would produce (all clips, without running the tower): lets callers
  // refuse a recording that cannot fit their context before spending time on it.
  int64_t count_tokens(std::span<const float> samples_16k) const;

  // 16-kHz mono samples (decoded already) → one embedding per clip, in order.
  Result<std::vector<AudioClipEmbedding>> encode_samples(std::span<const float> samples_16k, ThreadPool& pool) const;
  // A file or in-memory file in any supported container; errors start with the path / name.
  Result<std::vector<AudioClipEmbedding>> encode_file(const std::string& path, ThreadPool& pool) const;
  Result<std::vector<AudioClipEmbedding>> encode_memory(std::span<const uint8_t> bytes, std::string_view name,
                                                        ThreadPool& pool) const;

 private:
  AudioEncoder() = default;
  std::shared_ptr<const GgufFile> file_;
  std::optional<AudioTower> tower_;
  std::optional<AudioUnifiedProjector> unified_;
};

}  // namespace pocket
