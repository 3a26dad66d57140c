// Long-audio splitting: edge cases around 30 s, long recordings, cuts landing in pauses.
#include "media/audio_clips.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace pocket::media {
namespace {

constexpr int64_t kSecond = 16000;

// Deterministic noise in [-0.5, 0.5) (a 32-bit LCG), loud everywhere.
std::vector<float> noise(int64_t n) {
  std::vector<float> x(static_cast<size_t>(n));
  uint32_t state = 12345;
  for (float& v : x) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<float>(state >> 8) / static_cast<float>(1u << 24) - 0.5f;
  }
  return x;
}

// The clips must tile [0, n): contiguous, no overlap, each 1..30 s.
void expect_tiling(const std::vector<AudioClipRange>& clips, int64_t n) {
  int64_t pos = 0;
  for (const AudioClipRange& c : clips) {
    EXPECT_EQ(c.start, pos);
    EXPECT_GT(c.n_samples, 0);
    EXPECT_LE(c.n_samples, kMaxClipSamples);
    pos = c.start + c.n_samples;
  }
  EXPECT_EQ(pos, n);
}

TEST(AudioClips, UpToThirtySecondsIsOneClip) {
  for (int64_t n : {int64_t{161}, kSecond, 30 * kSecond}) {
    const auto clips = split_audio_clips(noise(n));
    ASSERT_EQ(clips.size(), 1u) << n;
    EXPECT_EQ(clips[0].start, 0);
    EXPECT_EQ(clips[0].n_samples, n);
  }
  EXPECT_TRUE(split_audio_clips({}).empty());
}

TEST(AudioClips, ThirtyPointZeroOneSecondsIsTwoBalancedClips) {
  const int64_t n = 30 * kSecond + 160;  // 30.01 s
  const auto clips = split_audio_clips(noise(n));
  ASSERT_EQ(clips.size(), 2u);
  expect_tiling(clips, n);
  // Balanced around 15 s (cut within ±3 s of the middle), never a sliver of a last clip.
  EXPECT_NEAR(static_cast<double>(clips[0].n_samples), n / 2.0, 3.0 * kSecond);
  EXPECT_GE(clips[1].n_samples, 12 * kSecond);
}

TEST(AudioClips, FiveMinutesCutInsidePauses) {
  // Speech-like: loud noise with a 0.4-s pause every 6 s (pauses start at 5.6 s, 11.6 s, ...).
  const int64_t n = 300 * kSecond;
  std::vector<float> x = noise(n);
  auto in_pause = [](int64_t s) { return s % (6 * kSecond) >= 5 * kSecond + 9600; };
  for (int64_t i = 0; i < n; ++i) {
    if (in_pause(i)) x[static_cast<size_t>(i)] = 0.0f;
  }
  const auto clips = split_audio_clips(x);
  ASSERT_EQ(clips.size(), 12u);  // ceil(300 / 27)
  expect_tiling(clips, n);
  for (size_t i = 1; i < clips.size(); ++i) {
    // Every cut sits in a pause with its 100-ms window fully silent (a pause is 400 ms long).
    const int64_t cut = clips[i].start;
    EXPECT_TRUE(in_pause(cut - 50 * 16) && in_pause(cut + 50 * 16 - 1)) << "cut at " << cut;
  }
}

TEST(AudioClips, WithoutPausesTheCutIsTheTarget) {
  // A constant signal has equal energy everywhere: ties go to the planned target (R / k).
  const int64_t n = 60 * kSecond;
  const auto clips = split_audio_clips(std::vector<float>(static_cast<size_t>(n), 0.25f));
  ASSERT_EQ(clips.size(), 3u);  // ceil(60 / 27)
  expect_tiling(clips, n);
  EXPECT_EQ(clips[0].n_samples, n / 3);
}

TEST(AudioClips, LongRecordingsStayUnderThirtySecondsPerClip) {
  for (int64_t seconds : {31, 54, 55, 61, 89, 90, 91, 600}) {
    const int64_t n = seconds * kSecond + 7;
    const auto clips = split_audio_clips(noise(n));
    expect_tiling(clips, n);
    EXPECT_EQ(static_cast<int64_t>(clips.size()), (n + kClipPlanSamples - 1) / kClipPlanSamples) << seconds;
  }
}

TEST(AudioClips, FeaturesPerClipAndErrors) {
  auto clips = audio_clips_with_features(noise(45 * kSecond));
  ASSERT_TRUE(clips.ok()) << clips.error().message;
  ASSERT_EQ(clips->size(), 2u);
  int64_t tokens = 0;
  for (const AudioClip& c : *clips) {
    EXPECT_EQ(c.features.n_frames, log_mel_frame_count(c.range.n_samples));
    EXPECT_EQ(c.features.data.size(), static_cast<size_t>(c.features.n_frames) * kMelBins);
    EXPECT_EQ(c.n_soft_tokens, audio_soft_token_count(c.range.n_samples));
    EXPECT_LE(c.n_soft_tokens, kMaxAudioSoftTokens);
    tokens += c.n_soft_tokens;
  }
  EXPECT_NEAR(static_cast<double>(tokens), 45 * 25, 2);

  auto one = audio_clips_with_features(noise(161));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)[0].n_soft_tokens, 1);
  auto empty = audio_clips_with_features({});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("no audio samples"), std::string::npos);
  auto short_clip = audio_clips_with_features(noise(100));
  ASSERT_FALSE(short_clip.ok());
  EXPECT_NE(short_clip.error().message.find("too short"), std::string::npos) << short_clip.error().message;
}

}  // namespace
}  // namespace pocket::media
