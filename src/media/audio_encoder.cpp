#include "media/audio_encoder.h"

#include "media/audio_clips.h"
#include "media/audio_decode.h"
#include "media/audio_features.h"

namespace pocket {

Result<AudioEncoder> AudioEncoder::load(const MmprojFile& mmproj) {
  AudioEncoder e;
  e.file_ = mmproj.gguf_shared();
  switch (mmproj.audio().projector) {
    case AudioProjector::kGemma4A: {
      auto t = AudioTower::load(*e.file_);
      if (!t) return t.error();
      e.tower_.emplace(std::move(*t));
      break;
    }
    case AudioProjector::kGemma4UA: {
      auto u = AudioUnifiedProjector::load(*e.file_);
      if (!u) return u.error();
      e.unified_.emplace(*u);
      break;
    }
    case AudioProjector::kNone:
      return Error{mmproj.path() + ": this mmproj has no audio encoder, so the model cannot take audio input"};
  }
  return e;
}

int64_t AudioEncoder::n_text() const { return tower_ ? tower_->n_text() : unified_->n_text(); }

int64_t AudioEncoder::count_tokens(std::span<const float> samples_16k) const {
  int64_t n = 0;
  for (const media::AudioClipRange& r : media::split_audio_clips(samples_16k)) {
    n += unified_ ? unified_audio_soft_tokens(r.n_samples) : media::audio_soft_token_count(r.n_samples);
  }
  return n;
}

Result<std::vector<AudioClipEmbedding>> AudioEncoder::encode_samples(std::span<const float> samples_16k,
                                                                     ThreadPool& pool) const {
  if (samples_16k.empty()) return Error{"the recording is empty (zero-length audio)"};
  std::vector<AudioClipEmbedding> out;
  if (unified_) {
    for (const media::AudioClipRange& r : media::split_audio_clips(samples_16k)) {
      auto rows =
          unified_->encode(samples_16k.subspan(static_cast<size_t>(r.start), static_cast<size_t>(r.n_samples)), pool);
      if (!rows) return rows.error();
      const auto n = static_cast<int64_t>(rows->size()) / unified_->n_text();
      out.push_back({r.start, r.n_samples, n, std::move(*rows)});
    }
    return out;
  }
  auto clips = media::audio_clips_with_features(samples_16k);
  if (!clips) return clips.error();
  for (const media::AudioClip& c : *clips) {
    auto rows = tower_->encode(c.features.data, c.features.n_frames, pool);
    if (!rows) return rows.error();
    const auto n = static_cast<int64_t>(rows->size()) / tower_->n_text();
    out.push_back({c.range.start, c.range.n_samples, n, std::move(*rows)});
  }
  return out;
}

Result<std::vector<AudioClipEmbedding>> AudioEncoder::encode_file(const std::string& path, ThreadPool& pool) const {
  auto audio = media::decode_audio_file(path);
  if (!audio) return audio.error();
  auto r = encode_samples(audio->samples, pool);
  if (!r) return Error{path + ": " + r.error().message};
  return r;
}

Result<std::vector<AudioClipEmbedding>> AudioEncoder::encode_memory(std::span<const uint8_t> bytes,
                                                                    std::string_view name, ThreadPool& pool) const {
  auto audio = media::decode_audio_memory(bytes, name);
  if (!audio) return audio.error();
  auto r = encode_samples(audio->samples, pool);
  if (!r) return Error{std::string(name) + ": " + r.error().message};
  return r;
}

}  // namespace pocket
