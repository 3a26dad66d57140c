// Replays every file in tests/corpus/audio/ (container/codec seeds and past fuzzer finds) through
// decoding, clip splitting and log-mel features: each must decode or fail with a message, never crash;
// the seeds must all decode.
#include <gtest/gtest.h>

#include <cmath>

#include "common/corpus_test_util.h"
#include "media/audio_clips.h"
#include "media/audio_decode.h"

namespace pocket::media {
namespace {

TEST(AudioCorpus, EveryCorpusFileDecodesOrFailsCleanly) {
  int seeds = 0;
  for (const test::CorpusFile& file : test::read_corpus("audio")) {
    const std::string& name = file.name;
    AudioDecodeOptions options;
    options.max_seconds = 20.0;  // as the fuzzer
    auto audio = decode_audio_memory(file.bytes, name, options);
    if (file.is_seed()) {
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
