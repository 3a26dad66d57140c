#include "audio_input.h"

#include <cstdio>

#include "media/audio_decode.h"
#include "runtime/media_prompt.h"

namespace pocket::cli {

Result<std::vector<ContentPart>> AudioParts::encode(const std::string& path) {
  if (!encoder_) {
    if (!stack_.mmproj) {
      return Error{"audio input needs the model's multimodal projector: pass --mmproj FILE (mmproj-*.gguf)"};
    }
    auto enc = AudioEncoder::load(*stack_.mmproj);
    if (!enc) return enc.error();
    encoder_ = std::make_unique<AudioEncoder>(std::move(enc).value());
  }
  auto audio = media::decode_audio_file(path);
  if (!audio) return audio.error();
  // Refuse what cannot fit before running the tower (an hour of audio is ~90 000 tokens).
  const int64_t need = encoder_->count_tokens(audio->samples);
  const int64_t context = stack_.session->context_size();
  if (need >= context) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", audio->duration_seconds());
    return Error{path + ": " + seconds + " s of audio needs " + std::to_string(need) +
                 " soft tokens (25 per second), more than the context of " + std::to_string(context) +
                 " tokens; use a larger -c/--context or a shorter recording"};
  }
  auto clips = encoder_->encode_samples(audio->samples, stack_.engine->pool());
  if (!clips) return Error{path + ": " + clips.error().message};
  std::vector<ContentPart> parts;
  int64_t tokens = 0, samples = 0;
  for (AudioClipEmbedding& c : *clips) {
    auto m = make_media_embedding(MediaKind::kAudio, c.n_tokens, std::move(c.rows));
    tokens += c.n_tokens;
    samples += c.n_samples;
    parts.push_back(ContentPart::Audio(std::move(m)));
  }
  std::fprintf(stderr, "[audio %s: %.1f s, %zu clip%s, %lld tokens]\n", path.c_str(),
               static_cast<double>(samples) / 16000.0, parts.size(), parts.size() == 1 ? "" : "s",
               static_cast<long long>(tokens));
  return parts;
}

}  // namespace pocket::cli
