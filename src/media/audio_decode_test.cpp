// Decoding, downmix and resampling: WAVs and other containers written here with libsndfile (plus
// hand-made headers for the hostile cases), decoded from files and from memory.
#include "media/audio_decode.h"

#include <gtest/gtest.h>
#include <sndfile.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <numbers>
#include <string>
#include <vector>

namespace pocket::media {
namespace {

// A file in the test temp dir, removed again at scope exit. Per-process names: several worktrees may
// run the unit suite at the same time on this machine.
struct TempFile {
  explicit TempFile(const std::string& name)
      : path(::testing::TempDir() + "pocket_audio_" + std::to_string(getpid()) + "_" + name) {}
  ~TempFile() { std::remove(path.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::string path;
};

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Interleaved test signal: channel c is a sine at base_hz·(c+1), amplitude 0.5.
std::vector<float> make_sine(int rate, int channels, double seconds, double base_hz) {
  const auto frames = static_cast<size_t>(std::llround(seconds * rate));
  std::vector<float> x(frames * static_cast<size_t>(channels));
  for (size_t i = 0; i < frames; ++i) {
    for (int c = 0; c < channels; ++c) {
      x[i * static_cast<size_t>(channels) + static_cast<size_t>(c)] = static_cast<float>(
          0.5 * std::sin(2.0 * std::numbers::pi * base_hz * (c + 1) * static_cast<double>(i) / rate));
    }
  }
  return x;
}

// Writes `samples` with libsndfile; false if this libsndfile cannot write the format.
bool write_sndfile(const std::string& path, int format, int rate, int channels, const std::vector<float>& samples) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  if (!sf_format_check(&info)) return false;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) return false;
  sf_writef_float(f, samples.data(), static_cast<sf_count_t>(samples.size() / static_cast<size_t>(channels)));
  sf_close(f);
  return true;
}

// Frequency of the strongest DFT bin between 50 Hz and 7.9 kHz (1 Hz steps around the expected peak).
double dominant_frequency(const std::vector<float>& x, int rate, double lo, double hi) {
  double best_f = 0, best_p = -1;
  for (double f = lo; f <= hi; f += 1.0) {
    double re = 0, im = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double ph = 2.0 * std::numbers::pi * f * static_cast<double>(i) / rate;
      re += x[i] * std::cos(ph);
      im += x[i] * std::sin(ph);
    }
    if (re * re + im * im > best_p) {
      best_p = re * re + im * im;
      best_f = f;
    }
  }
  return best_f;
}

// Minimal RIFF/WAVE PCM header (44 bytes) with free-form fields, for hostile inputs.
std::vector<uint8_t> wav_header(uint16_t format_tag, uint16_t channels, uint32_t rate, uint16_t bits,
                                uint32_t data_bytes) {
  std::vector<uint8_t> h;
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) h.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  auto u16 = [&](uint16_t v) {
    h.push_back(static_cast<uint8_t>(v));
    h.push_back(static_cast<uint8_t>(v >> 8));
  };
  auto tag = [&](const char* t) { h.insert(h.end(), t, t + 4); };
  tag("RIFF");
  u32(36 + data_bytes);
  tag("WAVE");
  tag("fmt ");
  u32(16);
  u16(format_tag);
  u16(channels);
  u32(rate);
  u32(rate * channels * bits / 8);
  u16(static_cast<uint16_t>(channels * bits / 8));
  u16(bits);
  tag("data");
  u32(data_bytes);
  return h;
}

TEST(AudioDecode, Pcm16MonoAt16kIsBitExact) {
  const TempFile path_file("pcm16.wav");
  const std::string& path = path_file.path;
  std::vector<float> x = make_sine(16000, 1, 0.5, 440.0);
  for (float& v : x) v = std::round(v * 32768.0f) / 32768.0f;  // representable in 16 bits
  ASSERT_TRUE(write_sndfile(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, x));
  auto a = decode_audio_file(path);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->samples, x);
  EXPECT_EQ(a->source_rate, 16000);
  EXPECT_EQ(a->source_channels, 1);
  EXPECT_EQ(a->source_frames, 8000);
  EXPECT_NE(a->source_format.find("WAV"), std::string::npos) << a->source_format;
  auto b = decode_audio_memory(read_bytes(path), "mem");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->samples, x);
}

struct FormatCase {
  const char* name;
  int format;
  float tolerance;  // max |decoded − original| at 16 kHz mono; < 0: lossy, check the frequency only
};

TEST(AudioDecode, EveryWavSampleFormatAndCompressedContainerDecodes) {
  const FormatCase cases[] = {
      {"u8.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 1.0f / 128},
      {"s16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1.0f / 32768},
      {"s24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1e-6f},
      {"s32.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 1e-7f},
      {"f32.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.0f},
      {"f64.wav", SF_FORMAT_WAV | SF_FORMAT_DOUBLE, 1e-7f},
      {"s16.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1.0f / 32768},
      {"s24.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 1e-6f},
      {"vorbis.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, -1},
      {"opus.ogg", SF_FORMAT_OGG | SF_FORMAT_OPUS, -1},
      {"layer3.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, -1},
  };
  const std::vector<float> x = make_sine(16000, 1, 1.0, 1000.0);
  for (const FormatCase& c : cases) {
    SCOPED_TRACE(c.name);
    const TempFile path_file(c.name);
    const std::string& path = path_file.path;
    // Opus only runs at 48 kHz-family rates; write it at 48 kHz (the decoder resamples back).
    const bool opus = (c.format & SF_FORMAT_SUBMASK) == SF_FORMAT_OPUS;
    const std::vector<float> src = opus ? make_sine(48000, 1, 1.0, 1000.0) : x;
    ASSERT_TRUE(write_sndfile(path, c.format, opus ? 48000 : 16000, 1, src)) << "libsndfile cannot write it";
    auto file = decode_audio_file(path);
    ASSERT_TRUE(file.ok()) << file.error().message;
    auto mem = decode_audio_memory(read_bytes(path));
    ASSERT_TRUE(mem.ok()) << mem.error().message;
    EXPECT_EQ(file->samples, mem->samples);
    if (c.tolerance >= 0) {
      ASSERT_EQ(file->samples.size(), x.size());
      float max_diff = 0;
      for (size_t i = 0; i < x.size(); ++i) max_diff = std::max(max_diff, std::abs(file->samples[i] - x[i]));
      EXPECT_LE(max_diff, c.tolerance);
    } else {
      // Lossy codecs add encoder delay/padding; the length stays close and the tone survives.
      EXPECT_NEAR(static_cast<double>(file->samples.size()), 16000.0, 2000.0);
      EXPECT_NEAR(dominant_frequency(file->samples, 16000, 900, 1100), 1000.0, 2.0);
    }
  }
}

TEST(AudioDecode, StereoIsAveragedToMono) {
  const TempFile path_file("stereo.wav");
  const std::string& path = path_file.path;
  const std::vector<float> x = make_sine(16000, 2, 0.25, 300.0);
  ASSERT_TRUE(write_sndfile(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 2, x));
  auto a = decode_audio_file(path);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_EQ(a->samples.size(), x.size() / 2);
  for (size_t i = 0; i < a->samples.size(); ++i) {
    ASSERT_FLOAT_EQ(a->samples[i], (x[2 * i] + x[2 * i + 1]) * 0.5f) << i;
  }
  EXPECT_EQ(a->source_channels, 2);
}

TEST(AudioDecode, DownmixAveragesEveryChannel) {
  const std::vector<float> six = {1, 2, 3, 4, 5, 6, -6, -5, -4, -3, -2, -1};
  EXPECT_EQ(downmix_to_mono(six, 6), (std::vector<float>{3.5f, -3.5f}));
  EXPECT_EQ(downmix_to_mono(six, 1), six);
}

TEST(AudioDecode, ResampleKeepsLengthAndFrequency) {
  for (int rate : {8000, 11025, 22050, 44100, 48000, 96000}) {
    SCOPED_TRACE(rate);
    const std::vector<float> x = make_sine(rate, 1, 0.5, 440.0);
    auto y = resample_mono(x, rate, 16000);
    ASSERT_TRUE(y.ok()) << y.error().message;
    EXPECT_EQ(y->size(), static_cast<size_t>(std::llround(x.size() * 16000.0 / rate)));
    EXPECT_NEAR(dominant_frequency(*y, 16000, 400, 480), 440.0, 1.0);
    // Away from the edges the resampled sine matches the ideal one closely (SOXR_HQ, in-band tone).
    double max_err = 0;
    for (size_t i = 800; i + 800 < y->size(); ++i) {
      const double ideal = 0.5 * std::sin(2.0 * std::numbers::pi * 440.0 * static_cast<double>(i) / 16000.0);
      max_err = std::max(max_err, std::abs((*y)[i] - ideal));
    }
    EXPECT_LT(max_err, 1e-3);
  }
}

TEST(AudioDecode, FileAt44100StereoResamplesThroughTheStream) {
  const TempFile path_file("44k_stereo.flac");
  const std::string& path = path_file.path;
  const std::vector<float> x = make_sine(44100, 2, 2.0, 500.0);  // 500 Hz left, 1 kHz right
  ASSERT_TRUE(write_sndfile(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 44100, 2, x));
  auto a = decode_audio_file(path);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->samples.size(), 32000u);
  EXPECT_EQ(a->source_rate, 44100);
  // Streaming in blocks gives the same result as one-shot resampling of the downmix.
  auto one_shot = resample_mono(downmix_to_mono(x, 2), 44100, 16000);
  ASSERT_TRUE(one_shot.ok());
  double max_err = 0;
  for (size_t i = 0; i < a->samples.size(); ++i)
    max_err = std::max(max_err, double(std::abs(a->samples[i] - (*one_shot)[i])));
  EXPECT_LT(max_err, 1e-5);
}

TEST(AudioDecode, BadInputGivesErrorsNamingTheProblem) {
  auto expect_error = [](const Result<DecodedAudio>& r, const std::string& needle) {
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  expect_error(decode_audio_memory({}, "empty"), "empty");
  const std::vector<uint8_t> garbage(1000, 0x5a);
  expect_error(decode_audio_memory(garbage, "garbage"), "cannot decode audio");
  expect_error(decode_audio_file(TempFile("does_not_exist.wav").path), "cannot open");

  // Header only: zero frames.
  expect_error(decode_audio_memory(wav_header(1, 1, 16000, 16, 0), "zero"), "no audio samples");

  // Absurd channel count and sample rate in otherwise valid PCM.
  std::vector<uint8_t> many = wav_header(1, 200, 16000, 16, 400 * 10);
  many.resize(many.size() + 400 * 10, 0);
  expect_error(decode_audio_memory(many, "many"), "channel count 200");
  std::vector<uint8_t> slow = wav_header(1, 1, 100, 16, 2000);
  slow.resize(slow.size() + 2000, 0);
  expect_error(decode_audio_memory(slow, "slow"), "sample rate 100");

  // Too long: checked from the header, before decoding.
  const TempFile path_file("two_seconds.wav");
  const std::string& path = path_file.path;
  ASSERT_TRUE(write_sndfile(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, make_sine(16000, 1, 2.0, 440)));
  expect_error(decode_audio_file(path, AudioDecodeOptions{.max_seconds = 1.0}), "too long");

  // NaN samples in a float WAV.
  std::vector<float> nan_signal(1600, 0.1f);
  nan_signal[700] = std::nanf("");
  const TempFile nan_path_file("nan.wav");
  const std::string& nan_path = nan_path_file.path;
  ASSERT_TRUE(write_sndfile(nan_path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, nan_signal));
  expect_error(decode_audio_file(nan_path), "non-finite");
}

TEST(AudioDecode, TruncatedFilesGiveAnErrorOrFewerSamples) {
  const std::vector<float> x = make_sine(16000, 1, 1.0, 440.0);
  for (const char* name : {"trunc.wav", "trunc.flac", "trunc.ogg"}) {
    SCOPED_TRACE(name);
    const TempFile path_file(name);
    const std::string& path = path_file.path;
    const int format = std::string(name).ends_with(".wav")    ? SF_FORMAT_WAV | SF_FORMAT_PCM_16
                       : std::string(name).ends_with(".flac") ? SF_FORMAT_FLAC | SF_FORMAT_PCM_16
                                                              : SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    ASSERT_TRUE(write_sndfile(path, format, 16000, 1, x));
    const std::vector<uint8_t> full = read_bytes(path);
    for (size_t keep : {size_t{4}, size_t{30}, size_t{60}, full.size() / 3, full.size() / 2, full.size() - 7}) {
      const std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<ptrdiff_t>(keep));
      auto r = decode_audio_memory(cut, "cut");
      // Either a clear error or (when the container has no length field to contradict) fewer samples.
      if (r.ok()) {
        EXPECT_LT(r->samples.size(), x.size());
      } else {
        EXPECT_FALSE(r.error().message.empty());
      }
    }
  }
  // A WAV header announcing more data than present is reported as truncated (or shortened by
  // libsndfile, which trusts the file size): never read past the end.
  std::vector<uint8_t> wav = wav_header(1, 1, 16000, 16, 32000);
  wav.resize(wav.size() + 1000, 0);
  auto r = decode_audio_memory(wav, "short");
  if (r.ok()) {
    EXPECT_EQ(r->samples.size(), 500u);
  }
}

}  // namespace
}  // namespace pocket::media
