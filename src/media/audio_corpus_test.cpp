// Replays every file in tests/corpus/audio/ (container/codec seeds and past fuzzer finds) through
// decoding, clip splitting and log-mel features: each must decode or fail with a message, never crash;
// the seeds must all decode.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "media/audio_clips.h"
#include "media/audio_decode.h"

namespace pocket::media {
namespace {

TEST(AudioCorpus, EveryCorpusFileDecodesOrFailsCleanly) {
  const std::filesystem::path dir = std::filesystem::path(POCKET_SOURCE_DIR) / "tests/corpus/audio";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  int seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
    const std::string name = entry.path().filename().string();
    AudioDecodeOptions options;
    options.max_seconds = 20.0;  // as the fuzzer
    auto audio = decode_audio_memory(bytes, name, options);
    if (name.rfind("seed", 0) == 0) {
      ++seeds;
      ASSERT_TRUE(audio.ok()) << audio.error().message;
    }
    if (!audio) {
      EXPECT_FALSE(audio.error().message.empty()) << name;
      continue;
    }
    auto clips = audio_clips_with_features(audio->samples);
    if (!clips) continue;
    for (const AudioClip& clip : *clips) {
      EXPECT_GE(clip.n_soft_tokens, 1) << name;
      for (float v : clip.features.data) ASSERT_TRUE(std::isfinite(v)) << name;
    }
  }
  EXPECT_GT(seeds, 0);
}

}  // namespace
}  // namespace pocket::media
