// Log-mel features and token counts: the spec's tables, HF's processor arithmetic, filterbank shape,
// golden values from tests/reference/audio_features_ref.py, and concurrent use.
#include "media/audio_features.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <thread>
#include <vector>

namespace pocket::media {
namespace {

double hz_to_mel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double mel_to_hz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

TEST(AudioFeatures, TokenCountsMatchSpecTable) {
  // Spec §4.3: 0.5 s → 13, 1 s → 25, 2 s → 50, 5 s → 125, 10 s → 250, 30 s → 750.
  EXPECT_EQ(audio_soft_token_count(8000), 13);
  EXPECT_EQ(audio_soft_token_count(16000), 25);
  EXPECT_EQ(audio_soft_token_count(32000), 50);
  EXPECT_EQ(audio_soft_token_count(80000), 125);
  EXPECT_EQ(audio_soft_token_count(160000), 250);
  EXPECT_EQ(audio_soft_token_count(480000), 750);
  EXPECT_EQ(log_mel_frame_count(480000), 2999);
  // Shortest inputs: one frame needs 161 samples.
  EXPECT_EQ(log_mel_frame_count(0), 0);
  EXPECT_EQ(log_mel_frame_count(160), 0);
  EXPECT_EQ(log_mel_frame_count(161), 1);
  EXPECT_EQ(audio_soft_token_count(160), 0);
  EXPECT_EQ(audio_soft_token_count(161), 1);
  EXPECT_EQ(log_mel_frame_count(321), 2);
  // The cap: longer clips never exceed 750 (they must be split, audio_clips.h).
  EXPECT_EQ(audio_soft_token_count(40 * 16000), 750);
  EXPECT_EQ(audio_soft_tokens_for_frames(0), 0);
  EXPECT_EQ(audio_soft_tokens_for_frames(1), 1);
  EXPECT_EQ(audio_soft_tokens_for_frames(4), 1);
  EXPECT_EQ(audio_soft_tokens_for_frames(5), 2);
}

// HF's processor: pad the waveform to a multiple of 128, frame it, mark frames that reach into the
// padding invalid, subsample the mask like the two stride-2 convolutions and count valid entries.
int64_t processor_token_count(int64_t n) {
  const int64_t padded = (n + 127) / 128 * 128;
  const int64_t frames = padded + 160 >= 321 ? (padded + 160 - 321) / 160 + 1 : 0;
  std::vector<bool> mask(static_cast<size_t>(frames));
  for (int64_t t = 0; t < frames; ++t) mask[static_cast<size_t>(t)] = t * 160 + 320 < n + 160;
  for (int layer = 0; layer < 2; ++layer) {
    const auto t_out = static_cast<size_t>((static_cast<int64_t>(mask.size()) + 2 - 3) / 2 + 1);
    std::vector<bool> sub;
    for (size_t i = 0; i < mask.size() && sub.size() < t_out; i += 2) sub.push_back(mask[i]);
    mask = sub;
  }
  int64_t count = 0;
  for (bool valid : mask) count += valid;
  return std::min<int64_t>(count, 750);
}

TEST(AudioFeatures, TokenCountEqualsHfProcessorMaskArithmetic) {
  for (int64_t n = 0; n <= 20000; n += 7) ASSERT_EQ(audio_soft_token_count(n), processor_token_count(n)) << n;
  for (int64_t n = 479000; n <= 480000; n += 13) ASSERT_EQ(audio_soft_token_count(n), processor_token_count(n)) << n;
  // About ceil(duration_ms / 40).
  for (int64_t ms = 40; ms <= 30000; ms += 40) {
    ASSERT_NEAR(static_cast<double>(audio_soft_token_count(ms * 16)), std::ceil(ms / 40.0), 1.0) << ms;
  }
}

TEST(AudioFeatures, FilterbankIsHtkTrianglesWithoutNormalisation) {
  const std::span<const double> fb = mel_filterbank();
  ASSERT_EQ(fb.size(), static_cast<size_t>(kMelFftBins * kMelBins));
  const double mel_step = hz_to_mel(8000.0) / (kMelBins + 1);
  int zero_filters = 0;
  for (int j = 0; j < kMelBins; ++j) {
    double peak = 0;
    int peak_bin = -1;
    int direction_changes = 0;
    double prev = 0;
    bool falling = false;
    for (int k = 0; k < kMelFftBins; ++k) {
      const double w = fb[static_cast<size_t>(k) * kMelBins + static_cast<size_t>(j)];
      ASSERT_GE(w, 0.0);
      ASSERT_LE(w, 1.0);
      if (w > peak) {
        peak = w;
        peak_bin = k;
      }
      if (!falling && w < prev) {
        falling = true;
        ++direction_changes;
      } else if (falling && w > prev) {
        ++direction_changes;  // rising again: not a triangle
      }
      prev = w;
      // Support lies strictly between the filter's outer mel points.
      const double f = k * 8000.0 / 256.0;
      if (w > 0) {
        ASSERT_GT(f, mel_to_hz(j * mel_step) - 1e-9) << j;
        ASSERT_LT(f, mel_to_hz((j + 2) * mel_step) + 1e-9) << j;
      }
    }
    EXPECT_LE(direction_changes, 1) << "filter " << j;
    if (peak_bin < 0) {
      ++zero_filters;
      continue;
    }
    // The peak bin is the FFT bin nearest the centre (one bin of slack either side).
    EXPECT_NEAR(peak_bin * 8000.0 / 256.0, mel_to_hz((j + 1) * mel_step), 31.25) << j;
  }
  // Filter 0 spans 0..27 Hz and falls between bins 0 and 1 (weight 0 at 0 Hz): the reference's
  // "all-zero filter" warning. Every other filter sees at least one bin.
  EXPECT_EQ(zero_filters, 1);
  EXPECT_EQ(fb[1 * kMelBins + 0], 0.0);
}

TEST(AudioFeatures, MatchesNumpyReferenceGoldenValues) {
  // x = 0.5 sin(2π·440 t) + 0.25 sin(2π·3000 t), 1600 samples; values from audio_features_ref.py.
  std::vector<float> x(1600);
  for (size_t i = 0; i < x.size(); ++i) {
    const double t = static_cast<double>(i) / 16000.0;
    x[i] = static_cast<float>(0.5 * std::sin(2 * std::numbers::pi * 440 * t) +
                              0.25 * std::sin(2 * std::numbers::pi * 3000 * t));
  }
  const LogMelFeatures f = compute_log_mel(x);
  ASSERT_EQ(f.n_frames, 9);
  ASSERT_EQ(f.data.size(), 9u * kMelBins);
  EXPECT_EQ(audio_soft_tokens_for_frames(f.n_frames), 3);
  struct Golden {
    int frame, bin;
    float value;
  };
  const Golden golden[] = {
      {0, 0, -6.90775537f},  {0, 10, 0.103821076f},  {1, 30, -1.3500005f},
      {3, 64, -6.20270681f}, {5, 100, -6.39894342f}, {8, 127, -6.86920071f},
      {4, 77, -4.70991564f}, {7, 20, -0.334956646f}, {6, 95, -5.70838547f},
  };
  for (const Golden& g : golden) {
    EXPECT_NEAR(f.data[static_cast<size_t>(g.frame) * kMelBins + static_cast<size_t>(g.bin)], g.value, 1e-5)
        << "frame " << g.frame << " bin " << g.bin;
  }
}

TEST(AudioFeatures, SilenceIsTheLogFloorAndShortInputHasNoFrames) {
  const LogMelFeatures f = compute_log_mel(std::vector<float>(16000, 0.0f));
  ASSERT_EQ(f.n_frames, 99);  // floor((16000 − 161) / 160) + 1
  for (float v : f.data) ASSERT_FLOAT_EQ(v, std::log(1e-3f));
  EXPECT_EQ(compute_log_mel(std::vector<float>(160, 0.5f)).n_frames, 0);
  EXPECT_TRUE(compute_log_mel({}).data.empty());
}

TEST(AudioFeatures, ToneLandsInTheMelBinCentredOnIt) {
  for (double hz : {250.0, 1000.0, 4000.0}) {
    std::vector<float> x(4000);
    for (size_t i = 0; i < x.size(); ++i) {
      x[i] = static_cast<float>(0.3 * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / 16000.0));
    }
    const LogMelFeatures f = compute_log_mel(x);
    const float* row = f.data.data() + 10 * kMelBins;  // a frame well inside the signal
    int best = 0;
    for (int j = 1; j < kMelBins; ++j) best = row[j] > row[best] ? j : best;
    // At low frequencies the filters (~20 Hz apart) are narrower than the FFT bins (31.25 Hz), so ask
    // for the winning filter's centre within 1.5 bins of the tone.
    const double centre_hz = mel_to_hz((best + 1) * hz_to_mel(8000.0) / (kMelBins + 1));
    EXPECT_NEAR(centre_hz, hz, 1.5 * 31.25) << hz;
  }
}

TEST(AudioFeatures, ConcurrentCallsGiveIdenticalResults) {
  std::vector<float> x(48000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(0.01 * static_cast<double>(i * i % 9973)));
  const LogMelFeatures expected = compute_log_mel(x);
  std::vector<LogMelFeatures> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) threads.emplace_back([&r, &x] { r = compute_log_mel(x); });
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r.data, expected.data);
}

}  // namespace
}  // namespace pocket::media
