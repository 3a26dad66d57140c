// Media previews embedded in the offline HTML report as data: URIs — nothing is linked, so the report
// stays one file that opens anywhere without the inbox or a network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace pocket::triage {

// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::span<const uint8_t> bytes);

// A JPEG thumbnail (longest side at most `max_side`, area-averaged, EXIF orientation applied) of an
// image file, as "data:image/jpeg;base64,...". Errors when the image cannot be decoded.
Result<std::string> image_thumbnail_data_uri(const std::filesystem::path& image, int max_side);

struct AudioPreview {
  std::string data_uri;  // data:audio/...;base64,...
  double seconds = 0;    // duration of the recording (whole file)
  bool clipped = false;  // the preview holds only the first max_seconds
};

// A playable preview of a recording: the original bytes when the file is at most `max_bytes` and a
// type every browser plays (WAV, MP3, Ogg, FLAC); otherwise the first `max_seconds` decoded to 16 kHz
// mono 16-bit WAV (≈ 32 kB/s, so 30 s ≈ 0.96 MB).
Result<AudioPreview> audio_preview(const std::filesystem::path& audio, std::string_view mime, size_t max_bytes,
                                   double max_seconds);

}  // namespace pocket::triage
