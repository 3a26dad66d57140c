// Audio decoding: libsndfile → block-wise downmix → streaming libsoxr resampler → 16 kHz mono.
#include "media/audio_decode.h"

#include <sndfile.h>
#include <soxr.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

namespace pocket::media {
namespace {

// Frames read from libsndfile per block; bounds the scratch memory to kBlockFrames × channels floats.
constexpr sf_count_t kBlockFrames = 16384;

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfileHandle = std::unique_ptr<SNDFILE, SndfileCloser>;

struct SoxrDeleter {
  void operator()(soxr* s) const { soxr_delete(s); }
};
using SoxrHandle = std::unique_ptr<soxr, SoxrDeleter>;

// Read-only view of caller memory for sf_open_virtual.
struct MemoryStream {
  std::span<const uint8_t> bytes;
  sf_count_t pos = 0;
};

sf_count_t mem_get_filelen(void* user) {
  return static_cast<sf_count_t>(static_cast<MemoryStream*>(user)->bytes.size());
}

sf_count_t mem_seek(sf_count_t offset, int whence, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  const auto size = static_cast<sf_count_t>(s->bytes.size());
  sf_count_t base = 0;
  if (whence == SEEK_CUR) base = s->pos;
  if (whence == SEEK_END) base = size;
  // Clamp instead of failing: libsndfile probes past the end of short inputs and checks reads.
  if (offset > 0 && base > size - offset) {
    s->pos = size;
  } else {
    s->pos = std::clamp<sf_count_t>(base + offset, 0, size);
  }
  return s->pos;
}

sf_count_t mem_read(void* ptr, sf_count_t count, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  const auto size = static_cast<sf_count_t>(s->bytes.size());
  if (count <= 0 || s->pos >= size) return 0;
  const sf_count_t n = std::min(count, size - s->pos);
  std::memcpy(ptr, s->bytes.data() + s->pos, static_cast<size_t>(n));
  s->pos += n;
  return n;
}

sf_count_t mem_write(const void*, sf_count_t, void*) { return 0; }
sf_count_t mem_tell(void* user) { return static_cast<MemoryStream*>(user)->pos; }

// Files go through virtual I/O too (streamed, not loaded): libsndfile then identifies the format from
// the content alone, exactly as for memory input, instead of trusting the file name's extension.
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

sf_count_t file_get_filelen(void* user) {
  auto* f = static_cast<std::FILE*>(user);
  const off_t here = ftello(f);
  if (here < 0 || fseeko(f, 0, SEEK_END) != 0) return -1;
  const off_t size = ftello(f);
  fseeko(f, here, SEEK_SET);
  return size;
}

sf_count_t file_seek(sf_count_t offset, int whence, void* user) {
  auto* f = static_cast<std::FILE*>(user);
  if (fseeko(f, static_cast<off_t>(offset), whence) != 0) return -1;
  return ftello(f);
}

sf_count_t file_read(void* ptr, sf_count_t count, void* user) {
  if (count <= 0) return 0;
  return static_cast<sf_count_t>(std::fread(ptr, 1, static_cast<size_t>(count), static_cast<std::FILE*>(user)));
}

sf_count_t file_tell(void* user) { return ftello(static_cast<std::FILE*>(user)); }

// "3.5 s" style: one decimal is enough to say why a file was refused.
std::string seconds_text(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f s", seconds);
  return buf;
}

std::string format_name(int format) {
  auto describe = [](int command, int value) -> std::string {
    SF_FORMAT_INFO info{};
    info.format = value;
    if (sf_command(nullptr, command, &info, sizeof(info)) != 0 || info.name == nullptr) return "unknown";
    return info.name;
  };
  return describe(SFC_GET_FORMAT_INFO, format & SF_FORMAT_TYPEMASK) + ", " +
         describe(SFC_GET_FORMAT_INFO, format & SF_FORMAT_SUBMASK);
}

bool is_mpeg(int format) { return (format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG; }

// Streams `file` into 16 kHz mono. `name` prefixes every error.
Result<DecodedAudio> decode_open(SNDFILE* file, const SF_INFO& info, const std::string& name,
                                 const AudioDecodeOptions& options) {
  if (info.channels < 1 || info.channels > kMaxAudioChannels) {
    return Error{name + ": unsupported channel count " + std::to_string(info.channels) + " (1.." +
                 std::to_string(kMaxAudioChannels) + " supported)"};
  }
  if (info.samplerate < kMinAudioRate || info.samplerate > kMaxAudioRate) {
    return Error{name + ": unsupported sample rate " + std::to_string(info.samplerate) + " Hz (" +
                 std::to_string(kMinAudioRate) + ".." + std::to_string(kMaxAudioRate) + " Hz supported)"};
  }
  if (info.frames <= 0) return Error{name + ": contains no audio samples (zero-length audio)"};
  const double max_seconds = std::max(0.0, options.max_seconds);
  const auto max_frames = static_cast<sf_count_t>(std::floor(max_seconds * info.samplerate));
  // SF_COUNT_MAX means "length unknown": enforced while decoding instead.
  if (info.frames != SF_COUNT_MAX && info.frames > max_frames) {
    return Error{name + ": too long: " + seconds_text(static_cast<double>(info.frames) / info.samplerate) +
                 " of audio, the limit is " + seconds_text(max_seconds)};
  }

  DecodedAudio out;
  out.source_rate = info.samplerate;
  out.source_channels = info.channels;
  out.source_format = format_name(info.format);

  SoxrHandle resampler;
  if (info.samplerate != kAudioSampleRate) {
    soxr_error_t err = nullptr;
    const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
    resampler.reset(soxr_create(info.samplerate, kAudioSampleRate, 1, &err, nullptr, &quality, nullptr));
    if (!resampler || err) return Error{name + ": cannot create resampler: " + std::string(soxr_strerror(err))};
  }
  if (info.frames != SF_COUNT_MAX) {
    out.samples.reserve(
        static_cast<size_t>(std::ceil(static_cast<double>(info.frames) * kAudioSampleRate / info.samplerate)) + 16);
  }

  const auto channels = static_cast<size_t>(info.channels);
  std::vector<float> block(static_cast<size_t>(kBlockFrames) * channels);
  std::vector<float> resampled;
  sf_count_t total = 0;
  // Appends resampled output for `mono` (nullptr = end of input: flush the filter tail).
  auto push = [&](const float* mono, size_t n) -> Status {
    if (!resampler) {
      out.samples.insert(out.samples.end(), mono, mono + n);
      return {};
    }
    size_t consumed_total = 0;
    do {
      resampled.resize(std::max<size_t>(4096, n * kAudioSampleRate / static_cast<size_t>(info.samplerate) + 64));
      size_t consumed = 0, produced = 0;
      const float* in = mono ? mono + consumed_total : nullptr;
      soxr_error_t err = soxr_process(resampler.get(), in, mono ? n - consumed_total : 0, &consumed, resampled.data(),
                                      resampled.size(), &produced);
      if (err) return Error{name + ": resampling failed: " + std::string(err)};
      out.samples.insert(out.samples.end(), resampled.begin(), resampled.begin() + static_cast<ptrdiff_t>(produced));
      consumed_total += consumed;
      // Flushing: keep draining until the resampler has nothing more to give.
      if (!mono && produced == 0) break;
      if (mono && consumed == 0 && produced == 0) break;
    } while (!mono || consumed_total < n);
    return {};
  };

  for (;;) {
    const sf_count_t got = sf_readf_float(file, block.data(), kBlockFrames);
    if (got <= 0) break;
    total += got;
    if (total > max_frames) {
      return Error{name + ": too long: more than " + seconds_text(max_seconds) + " of audio (the limit)"};
    }
    const std::span<const float> interleaved(block.data(), static_cast<size_t>(got) * channels);
    for (float v : interleaved) {
      if (!std::isfinite(v)) return Error{name + ": contains non-finite samples (NaN or infinity)"};
    }
    const std::vector<float> mono = downmix_to_mono(interleaved, info.channels);
    if (Status s = push(mono.data(), mono.size()); !s) return s.error();
  }
  if (const int err = sf_error(file); err != SF_ERR_NO_ERROR) {
    return Error{name + ": corrupt audio data: " + std::string(sf_strerror(file))};
  }
  if (total == 0) return Error{name + ": contains no decodable audio samples (zero-length or corrupt)"};
  // A short read means the data chunk ends early. MP3 lengths are estimates (no exact frame count
  // in the stream), so only there is a difference tolerated.
  if (info.frames != SF_COUNT_MAX && total < info.frames && !is_mpeg(info.format)) {
    return Error{name + ": truncated: the header announces " + std::to_string(info.frames) + " frames but only " +
                 std::to_string(total) + " could be decoded"};
  }
  if (resampler) {
    if (Status s = push(nullptr, 0); !s) return s.error();
  }
  // Pin the length to round(n · 16000 / rate) so it never depends on block sizes.
  const auto expected =
      static_cast<size_t>(std::llround(static_cast<double>(total) * kAudioSampleRate / info.samplerate));
  out.samples.resize(expected, 0.0f);
  out.source_frames = total;
  if (out.samples.empty()) return Error{name + ": too short: shorter than one sample at 16 kHz"};
  return out;
}

}  // namespace

std::vector<float> downmix_to_mono(std::span<const float> interleaved, int channels) {
  if (channels <= 1) return {interleaved.begin(), interleaved.end()};
  const auto c = static_cast<size_t>(channels);
  const size_t frames = interleaved.size() / c;
  std::vector<float> mono(frames);
  const float inv = 1.0f / static_cast<float>(channels);
  for (size_t i = 0; i < frames; ++i) {
    float sum = 0.0f;
    for (size_t j = 0; j < c; ++j) sum += interleaved[i * c + j];
    mono[i] = sum * inv;
  }
  return mono;
}

Result<std::vector<float>> resample_mono(std::span<const float> mono, int in_rate, int out_rate) {
  if (in_rate <= 0 || out_rate <= 0) return Error{"resample: invalid sample rate"};
  if (in_rate == out_rate) return std::vector<float>(mono.begin(), mono.end());
  const auto expected = static_cast<size_t>(std::llround(static_cast<double>(mono.size()) * out_rate / in_rate));
  std::vector<float> out(expected);
  size_t done = 0;
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  soxr_error_t err = soxr_oneshot(in_rate, out_rate, 1, mono.data(), mono.size(), nullptr, out.data(), out.size(),
                                  &done, nullptr, &quality, nullptr);
  if (err) return Error{"resample: " + std::string(err)};
  out.resize(expected, 0.0f);  // soxr may deliver a sample less at the very end; pad with silence
  return out;
}

Result<DecodedAudio> decode_audio_file(const std::string& path, const AudioDecodeOptions& options) {
  std::unique_ptr<std::FILE, FileCloser> stream(std::fopen(path.c_str(), "rb"));
  if (!stream) return Error{path + ": cannot open: " + std::strerror(errno)};
  if (file_get_filelen(stream.get()) == 0) return Error{path + ": empty file (0 bytes)"};
  SF_VIRTUAL_IO io{file_get_filelen, file_seek, file_read, mem_write, file_tell};
  SF_INFO info{};
  SndfileHandle file(sf_open_virtual(&io, SFM_READ, &info, stream.get()));
  if (!file) {
    return Error{path + ": cannot decode audio: " + std::string(sf_error_number(sf_error(nullptr))) +
                 " (supported: WAV, FLAC, OGG Vorbis/Opus, MP3, AIFF and other libsndfile formats)"};
  }
  return decode_open(file.get(), info, path, options);
}

Result<DecodedAudio> decode_audio_memory(std::span<const uint8_t> bytes, std::string_view name,
                                         const AudioDecodeOptions& options) {
  const std::string label(name);
  if (bytes.empty()) return Error{label + ": empty (0 bytes)"};
  MemoryStream stream{bytes, 0};
  SF_VIRTUAL_IO io{mem_get_filelen, mem_seek, mem_read, mem_write, mem_tell};
  SF_INFO info{};
  SndfileHandle file(sf_open_virtual(&io, SFM_READ, &info, &stream));
  if (!file) {
    return Error{label + ": cannot decode audio: " + std::string(sf_error_number(sf_error(nullptr))) +
                 " (supported: WAV, FLAC, OGG Vorbis/Opus, MP3, AIFF and other libsndfile formats)"};
  }
  return decode_open(file.get(), info, label, options);
}

}  // namespace pocket::media
