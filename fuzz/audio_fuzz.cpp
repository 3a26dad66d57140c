// libFuzzer entry for the audio input path: any byte string must decode (libsndfile, downmix, libsoxr)
// or fail with a message; decoded audio must be finite 16 kHz mono and split into clips with features
// without faults. The duration limit is lowered so the fuzzer explores containers and codecs instead
// of spending its time on legitimately long (e.g. header-declared) recordings.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "media/audio_clips.h"
#include "media/audio_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pocket::media::AudioDecodeOptions options;
  options.max_seconds = 20.0;
  auto audio = pocket::media::decode_audio_memory({data, size}, "fuzz", options);
  if (!audio) {
    if (audio.error().message.empty()) __builtin_trap();
    return 0;
  }
  if (audio->samples.empty() || audio->duration_seconds() > options.max_seconds + 1) __builtin_trap();
  for (float v : audio->samples) {
    if (!std::isfinite(v)) __builtin_trap();
  }
  auto clips = pocket::media::audio_clips_with_features(audio->samples);
  if (!clips) return 0;  // too short for a token: a clean error
  for (const auto& clip : *clips) {
    if (clip.n_soft_tokens < 1 || clip.n_soft_tokens > pocket::media::kMaxAudioSoftTokens) __builtin_trap();
    for (float v : clip.features.data) {
      if (!std::isfinite(v)) __builtin_trap();
    }
  }
  return 0;
}
