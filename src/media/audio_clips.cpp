// Splitting long recordings into ≤ 30-s clips at quiet moments (policy documented in the header).
#include "media/audio_clips.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <string>

namespace pocket::media {
namespace {

// Picks the cut in [lo, hi] (candidates lo, lo + 10 ms, …) with the least energy in the 100-ms window
// centred on it; ties go to the candidate nearest `target`.
int64_t quietest_cut(std::span<const float> x, int64_t lo, int64_t hi, int64_t target) {
  const auto n = static_cast<int64_t>(x.size());
  const int64_t half = kClipQuietWindowSamples / 2;
  // Prefix sums of squares over the region the windows can touch, in double (sums of up to 7 s).
  const int64_t base = std::max<int64_t>(0, lo - half);
  const int64_t end = std::min(n, hi + half);
  std::vector<double> prefix(static_cast<size_t>(end - base) + 1, 0.0);
  for (int64_t i = base; i < end; ++i) {
    const double v = x[static_cast<size_t>(i)];
    prefix[static_cast<size_t>(i - base) + 1] = prefix[static_cast<size_t>(i - base)] + v * v;
  }
  int64_t best = lo;
  double best_energy = std::numeric_limits<double>::infinity();
  for (int64_t p = lo; p <= hi; p += kClipCutStepSamples) {
    const int64_t a = std::max(base, p - half), b = std::min(end, p + half);
    const double energy = prefix[static_cast<size_t>(b - base)] - prefix[static_cast<size_t>(a - base)];
    const bool nearer = std::abs(p - target) < std::abs(best - target);
    if (energy < best_energy || (energy == best_energy && nearer)) {
      best_energy = energy;
      best = p;
    }
  }
  return best;
}

}  // namespace

std::vector<AudioClipRange> split_audio_clips(std::span<const float> samples_16k) {
  const auto n = static_cast<int64_t>(samples_16k.size());
  std::vector<AudioClipRange> clips;
  if (n == 0) return clips;
  if (n <= kMaxClipSamples) {
    clips.push_back({0, n});
    return clips;
  }
  // The clip count is fixed up front; every cut keeps the rest splittable into the clips left.
  const int64_t n_clips = (n + kClipPlanSamples - 1) / kClipPlanSamples;  // ≥ 2 here
  int64_t start = 0;
  for (int64_t left = n_clips; left > 1; --left) {
    const int64_t remaining = n - start;  // ≤ left · 30 s, by the previous cut's bounds
    const int64_t target = start + remaining / left;
    // This clip ≤ 30 s; the rest fits in left − 1 clips of ≤ 30 s.
    const int64_t lo = std::max(target - kClipCutSearchSamples, n - (left - 1) * kMaxClipSamples);
    const int64_t hi = std::min(target + kClipCutSearchSamples, start + kMaxClipSamples);
    const int64_t cut = quietest_cut(samples_16k, lo, hi, target);
    clips.push_back({start, cut - start});
    start = cut;
  }
  clips.push_back({start, n - start});
  return clips;
}

Result<std::vector<AudioClip>> audio_clips_with_features(std::span<const float> samples_16k) {
  if (samples_16k.empty()) return Error{"no audio samples"};
  if (log_mel_frame_count(static_cast<int64_t>(samples_16k.size())) <= 0) {
    return Error{"too short: " + std::to_string(samples_16k.size()) +
                 " samples at 16 kHz; at least 161 (about 10 ms) are needed for one audio token"};
  }
  std::vector<AudioClip> out;
  for (const AudioClipRange& range : split_audio_clips(samples_16k)) {
    AudioClip clip;
    clip.range = range;
    clip.features =
        compute_log_mel(samples_16k.subspan(static_cast<size_t>(range.start), static_cast<size_t>(range.n_samples)));
    clip.n_soft_tokens = audio_soft_tokens_for_frames(clip.features.n_frames);
    out.push_back(std::move(clip));
  }
  return out;
}

}  // namespace pocket::media
