#include "triage/report_media.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <vector>

#include "media/audio_decode.h"
#include "media/image_decode.h"

// stb_image_write compiled privately into this file (static functions): the unit tests define their
// own copy, and two external definitions would collide at link time.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

namespace pocket::triage {
namespace {

// Box-filter downscale of RGB [h][w][3] to [oh][ow][3]: every output pixel is the area-weighted mean
// of the source pixels it covers (no aliasing for large reductions, which is all a thumbnail needs).
std::vector<uint8_t> downscale_rgb(const media::Image& img, int ow, int oh) {
  std::vector<uint8_t> out(static_cast<size_t>(ow) * oh * 3);
  const double sx = static_cast<double>(img.width) / ow;
  const double sy = static_cast<double>(img.height) / oh;
  for (int y = 0; y < oh; ++y) {
    const double y0 = y * sy;
    const double y1 = (y + 1) * sy;
    for (int x = 0; x < ow; ++x) {
      const double x0 = x * sx;
      const double x1 = (x + 1) * sx;
      double acc[3] = {0, 0, 0};
      double total = 0;
      for (int iy = static_cast<int>(y0); iy < std::min(img.height, static_cast<int>(std::ceil(y1))); ++iy) {
        const double wy = std::min<double>(iy + 1, y1) - std::max<double>(iy, y0);
        for (int ix = static_cast<int>(x0); ix < std::min(img.width, static_cast<int>(std::ceil(x1))); ++ix) {
          const double w = wy * (std::min<double>(ix + 1, x1) - std::max<double>(ix, x0));
          for (int c = 0; c < 3; ++c) acc[c] += w * img.at(iy, ix, c);
          total += w;
        }
      }
      for (int c = 0; c < 3; ++c) {
        out[(static_cast<size_t>(y) * ow + x) * 3 + c] =
            static_cast<uint8_t>(std::clamp(std::lround(acc[c] / std::max(total, 1e-12)), 0L, 255L));
      }
    }
  }
  return out;
}

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

void put_le(std::vector<uint8_t>& out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// 16-bit PCM mono WAV of `samples` at `rate`.
std::vector<uint8_t> wav_16bit(std::span<const float> samples, int rate) {
  std::vector<uint8_t> out;
  const auto data_bytes = static_cast<uint32_t>(samples.size() * 2);
  out.reserve(44 + data_bytes);
  for (char c : std::string_view("RIFF")) out.push_back(static_cast<uint8_t>(c));
  put_le(out, 36 + data_bytes, 4);
  for (char c : std::string_view("WAVEfmt ")) out.push_back(static_cast<uint8_t>(c));
  put_le(out, 16, 4);
  put_le(out, 1, 2);  // PCM
  put_le(out, 1, 2);  // mono
  put_le(out, static_cast<uint32_t>(rate), 4);
  put_le(out, static_cast<uint32_t>(rate) * 2, 4);
  put_le(out, 2, 2);
  put_le(out, 16, 2);
  for (char c : std::string_view("data")) out.push_back(static_cast<uint8_t>(c));
  put_le(out, data_bytes, 4);
  for (float s : samples) {
    const long v = std::lround(std::clamp(s, -1.0f, 1.0f) * 32767.0f);
    put_le(out, static_cast<uint32_t>(static_cast<int16_t>(v)), 2);
  }
  return out;
}

}  // namespace

std::string base64_encode(std::span<const uint8_t> bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = uint32_t{bytes[i]} << 16 | uint32_t{bytes[i + 1]} << 8 | bytes[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    const uint32_t v = uint32_t{bytes[i]} << 16 | (i + 1 < bytes.size() ? uint32_t{bytes[i + 1]} << 8 : 0);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> image_thumbnail_data_uri(const std::filesystem::path& image, int max_side) {
  Result<media::Image> img = media::decode_image_file(image.string());
  if (!img.ok()) return img.error();
  const int longest = std::max(img->width, img->height);
  const double scale = longest > max_side ? static_cast<double>(max_side) / longest : 1.0;
  const int ow = std::max(1, static_cast<int>(std::lround(img->width * scale)));
  const int oh = std::max(1, static_cast<int>(std::lround(img->height * scale)));
  const std::vector<uint8_t> rgb = scale < 1.0 ? downscale_rgb(*img, ow, oh) : img->rgb;
  std::vector<uint8_t> jpeg;
  if (stbi_write_jpg_to_func(append_bytes, &jpeg, ow, oh, 3, rgb.data(), 80) == 0 || jpeg.empty()) {
    return Error{image.string() + ": cannot encode the thumbnail"};
  }
  return "data:image/jpeg;base64," + base64_encode(jpeg);
}

Result<AudioPreview> audio_preview(const std::filesystem::path& audio, std::string_view mime, size_t max_bytes,
                                   double max_seconds) {
  Result<media::DecodedAudio> decoded = media::decode_audio_file(audio.string());
  if (!decoded.ok()) return decoded.error();
  AudioPreview preview;
  preview.seconds = decoded->duration_seconds();
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(audio, ec);
  // The types Chromium, Firefox and Safari all play natively.
  std::string playable;
  if (mime == "audio/x-wav" || mime == "audio/wav" || mime == "audio/vnd.wave")
    playable = "audio/wav";
  else if (mime == "audio/mpeg")
    playable = "audio/mpeg";
  else if (mime == "audio/flac" || mime == "audio/x-flac")
    playable = "audio/flac";
  if (!ec && size <= max_bytes && !playable.empty()) {
    std::ifstream in(audio, std::ios::binary);
    const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (bytes.size() == size) {
      preview.data_uri = "data:" + playable + ";base64," + base64_encode(bytes);
      return preview;
    }
  }
  const auto keep = static_cast<size_t>(std::max(0.0, max_seconds) * media::kAudioSampleRate);
  const std::span<const float> samples(decoded->samples.data(), std::min(keep, decoded->samples.size()));
  preview.clipped = samples.size() < decoded->samples.size();
  preview.data_uri = "data:audio/wav;base64," + base64_encode(wav_16bit(samples, media::kAudioSampleRate));
  return preview;
}

}  // namespace pocket::triage
