// Long audio (spec §4.8): the audio tower sees at most 30 s (750 soft tokens) per clip, so longer
// recordings are split into clips; each clip gets its own log-mel features and its own
// <|audio> … <audio|> group in the prompt, in recording order.
//
// How pocket splits (deterministic, depends only on the samples):
// - ≤ 30 s (480 000 samples at 16 kHz): one clip, the whole recording.
// - Longer: no overlap (overlapping clips would make the model hear — and transcribe — words twice)
//   and no gaps: the clips tile the recording exactly. Clips are planned at ~27 s on average rather
//   than the 30-s maximum, which leaves slack to move each cut to a quiet moment. The clip count is
//   fixed up front, K = ceil(N / 27 s). With R samples and k clips left, the next cut targets R / k
//   from the current start and is placed at the quietest point (least energy in a 100-ms window,
//   candidates every 10 ms, ties → the candidate nearest the target) within ±3 s of the target,
//   restricted so that this clip stays ≤ 30 s and the rest still fits in k − 1 clips of ≤ 30 s.
//   Cutting in pauses keeps words whole.
//   Examples: 30.01 s → 2 clips of about 15 s; 80 s → 3 clips; 5 min → 12 clips of about 25 s;
//   1 h → 134 clips.
// - llama.cpp instead cuts at every 30 s exactly (mid-word, and a last clip of a few ms can carry
//   no token at all); HF truncates at 30 s. More in docs/audio-input.md.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "media/audio_features.h"

namespace pocket::media {

inline constexpr int64_t kClipPlanSamples = 27 * 16000;      // planned average clip length
inline constexpr int64_t kClipCutSearchSamples = 3 * 16000;  // ± window around each planned cut
inline constexpr int64_t kClipQuietWindowSamples = 1600;     // 100 ms energy window
inline constexpr int64_t kClipCutStepSamples = 160;          // candidate cuts every 10 ms

struct AudioClipRange {
  int64_t start = 0;      // first sample (16 kHz) of the clip in the recording
  int64_t n_samples = 0;  // ≤ kMaxClipSamples
};

// Clip boundaries for a recording of 16-kHz samples (see above). Empty input → no clips.
std::vector<AudioClipRange> split_audio_clips(std::span<const float> samples_16k);

struct AudioClip {
  AudioClipRange range;
  LogMelFeatures features;    // [features.n_frames][kMelBins]
  int64_t n_soft_tokens = 0;  // = audio_soft_tokens_for_frames(features.n_frames), 1..750
};

// Splits and extracts features for every clip, in order. Error when the recording is too short to
// give a single soft token (< 161 samples, about 10 ms) or is empty.
Result<std::vector<AudioClip>> audio_clips_with_features(std::span<const float> samples_16k);

}  // namespace pocket::media
