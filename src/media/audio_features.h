// Log-mel features for the Gemma 4 audio tower, exactly as HF's Gemma4AudioFeatureExtractor (spec
// §4.2), and the soft-token count the encoder produces for a clip (spec §4.7).
//
// Input: mono float32 samples at 16 kHz (decode_audio_* output), one clip of at most 30 s (split longer
// recordings with audio_clips.h first; this function itself does not truncate).
//
// Pipeline (all constants from the reference):
//   1. Left-pad 160 zeros ("semicausal": frame_length / 2); no right padding.
//   2. Frames of 321 samples every 160 samples over the padded signal:
//        T = floor((N + 160 − 321) / 160) + 1 = floor((N − 161) / 160) + 1, T ≤ 0 → no frames.
//      Only the first 320 samples of a frame are used (the 321st only feeds the disabled pre-emphasis).
//   3. × periodic Hann window of length 320 (numpy's hanning(321)[:-1], stored as float32; the
//      product is rounded to float32 like the reference's float32 arrays).
//   4. Zero-pad to 512, real FFT (FFTW, double precision), magnitude |X[k]|, k = 0..256 (not power).
//   5. 128 triangular HTK-mel filters on 130 points equally spaced in mel over 0..8000 Hz, evaluated at
//      f_k = k · 8000/256 Hz, no area normalisation (HF mel_filter_bank(norm=None, mel_scale="htk")).
//   6. feature = ln(mel + 0.001), natural log, computed in double and stored as float32.
//   No dither, no pre-emphasis, input scale 1, no per-bin normalisation.
//
// The reference pads the waveform to a multiple of 128 samples and zeroes the frames that reach into
// that padding (its mask); the frames kept here are exactly its valid frames, and the encoder treats
// the missing frames the same way (conv zero padding), so nothing is lost.
//
// Thread-safe: the FFT plan and the filterbank are built once (first call) and only read afterwards.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace pocket::media {

inline constexpr int kMelBins = 128;
inline constexpr int kMelFrameLength = 320;  // 20 ms window
inline constexpr int kMelHopLength = 160;    // 10 ms hop
inline constexpr int kMelFftLength = 512;
inline constexpr int kMelFftBins = kMelFftLength / 2 + 1;  // 257
inline constexpr double kMelFloor = 1e-3;
// One clip: HF truncates at 480 000 samples (30 s) and the processor caps the tokens at 750.
inline constexpr int64_t kMaxClipSamples = 480000;
inline constexpr int64_t kMaxAudioSoftTokens = 750;

// Number of feature frames T for n 16-kHz samples (0 when n < 161).
int64_t log_mel_frame_count(int64_t n_samples);

// Soft tokens the audio tower emits for T feature frames: two stride-2, kernel-3, pad-1 convolutions,
// ceil(ceil(T/2)/2), capped at 750. 0 for T ≤ 0.
int64_t audio_soft_tokens_for_frames(int64_t n_frames);

// Soft tokens for a clip of n 16-kHz samples (spec §4.7): about 25 per second (one per 40 ms),
// 0.5 s → 13, 1 s → 25, 30 s → 750.
int64_t audio_soft_token_count(int64_t n_samples);

struct LogMelFeatures {
  int64_t n_frames = 0;
  std::vector<float> data;  // [n_frames][kMelBins], row-major
};

// Log-mel matrix of one clip. Empty (0 frames) when the clip is shorter than 161 samples.
LogMelFeatures compute_log_mel(std::span<const float> samples_16k);

// The filterbank as the reference builds it: [kMelFftBins][kMelBins] row-major, float64.
// Exposed for tests.
std::span<const double> mel_filterbank();

}  // namespace pocket::media
