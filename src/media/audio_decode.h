// Audio decoding for the audio tower: any container libsndfile reads (WAV PCM 8/16/24/32-bit and
// float, FLAC, OGG/Vorbis, OGG/Opus, MP3, AIFF, ...) from a file or from memory (the server passes
// base64-decoded bytes), downmixed to mono and resampled to 16 kHz. Files are streamed through the
// same virtual I/O as memory, so the format is always recognised from the content, never from the
// file name. More in docs/audio-input.md.
//
// Output: float32 mono samples at 16 000 Hz, nominally in [-1, 1] (integer PCM is scaled by
// libsndfile: 16-bit by 1/32768 etc.; float files pass through unclipped). This is exactly the input
// the feature extractor (audio_features.h) expects.
//
// Semantics chosen to match the HF reference pipeline (transformers' load_audio → librosa.load):
// - Downmix: the plain average of all channels (librosa.to_mono = mean over channels).
// - Resampling: libsoxr, quality SOXR_HQ (20-bit precision, linear phase, passband to 91.3 % of the
//   lower Nyquist), the same recipe as librosa's default res_type "soxr_hq". 16 kHz input is passed
//   through untouched (bit-exact). Output length = round(n_in · 16000 / rate).
//
// Limits (checked from the header before any sample is decoded, and again while decoding in case the
// header lies): at most `max_seconds` of audio (default 1 hour), 1..kMaxAudioChannels channels, sample
// rates kMinAudioRate..kMaxAudioRate Hz. Decoding streams in blocks, so memory is bounded by the 16 kHz
// mono output (1 h ≈ 230 MB), never by the channel count or the source rate.
//
// Errors name the input and the problem: not an audio file / unsupported format, zero-length audio,
// truncated or corrupt data, NaN/Inf samples, limits exceeded.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace pocket::media {

// The rate every audio path runs at after decoding (the feature extractor's rate).
inline constexpr int kAudioSampleRate = 16000;
// Default cap on decoded duration: one hour (≈ 90 000 soft tokens — far beyond any prompt, so this
// bounds memory and time for hostile or accidental input rather than limiting real use).
inline constexpr double kDefaultMaxAudioSeconds = 3600.0;
inline constexpr int kMaxAudioChannels = 64;
inline constexpr int kMinAudioRate = 1000;
inline constexpr int kMaxAudioRate = 768000;

struct AudioDecodeOptions {
  double max_seconds = kDefaultMaxAudioSeconds;
};

struct DecodedAudio {
  std::vector<float> samples;  // [n] mono, 16 kHz
  int source_rate = 0;         // Hz, as stored in the file
  int source_channels = 0;
  int64_t source_frames = 0;  // frames actually decoded at the source rate
  std::string source_format;  // e.g. "WAV (Microsoft), Signed 16 bit PCM"

  double duration_seconds() const { return static_cast<double>(samples.size()) / kAudioSampleRate; }
};

// Decodes the file at `path`. Errors start with the path.
Result<DecodedAudio> decode_audio_file(const std::string& path, const AudioDecodeOptions& options = {});

// Decodes an in-memory file (same formats). `name` labels error messages (e.g. "audio part 2").
Result<DecodedAudio> decode_audio_memory(std::span<const uint8_t> bytes, std::string_view name = "audio",
                                         const AudioDecodeOptions& options = {});

// Building blocks (also used by tests).

// Averages `channels` interleaved channels into one: out[i] = mean_c in[i·channels + c].
// in.size() must be a multiple of `channels`.
std::vector<float> downmix_to_mono(std::span<const float> interleaved, int channels);

// Resamples mono float audio from `in_rate` to `out_rate` with libsoxr (SOXR_HQ, as above); returns
// exactly round(n · out_rate / in_rate) samples. in_rate == out_rate copies.
Result<std::vector<float>> resample_mono(std::span<const float> mono, int in_rate, int out_rate);

}  // namespace pocket::media
