// Image decoding: PNG, JPEG, WebP (first frame if animated), BMP and GIF (first frame), EXIF orientation
// applied, from a file or from memory, into 8-bit RGB. Codecs come from Debian: libjpeg-turbo (JPEG,
// with PIL's settings, so pixels equal the reference's), stb_image (PNG, BMP, GIF) and libwebp (+demux
// for animations); nothing is hand-written.
//
// Conversion to RGB follows what the Hugging Face reference does to a PIL image (`load_image`:
// ImageOps.exif_transpose — EXIF orientation of JPEG, PNG and WebP — then convert("RGB")):
//   - alpha is dropped, not composited (PIL convert("RGBA"→"RGB") keeps the stored colour channels);
//   - grayscale is replicated into R, G and B;
//   - 16-bit samples keep their high byte (PIL does the same for 16-bit RGB(A) PNGs; for 16-bit
//     grayscale PIL clips values above 255 to white, which we do not copy — documented deviation).
// The size limits are checked from the header before any pixel is decoded (decompression bombs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace pocket::media {

// A decoded picture: 8-bit RGB, row-major, rgb.size() == height * width * 3, layout [H][W][3].
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;

  uint8_t at(int y, int x, int c) const { return rgb[(static_cast<size_t>(y) * width + x) * 3 + c]; }
};

// Limits applied before decoding. Defaults admit any real photo (100 MP phones, 16k panoramas) and
// refuse what would need more than ~300 MB of RGB.
struct ImageLimits {
  size_t max_file_bytes = size_t{100} << 20;        // encoded bytes
  int max_side = 32768;                             // width and height, each
  int64_t max_pixels = int64_t{100} * 1000 * 1000;  // width × height
};

enum class ImageFormat { kUnknown, kPng, kJpeg, kWebp, kBmp, kGif };

// "PNG", "JPEG", "WebP", "BMP", "GIF" or "unknown".
const char* image_format_name(ImageFormat f);

// Format from the leading magic bytes (not from a file name).
ImageFormat detect_image_format(std::span<const uint8_t> bytes);

// EXIF orientation (1..8; 1 = as stored) from a JPEG's APP1 segment, a PNG's eXIf chunk or a WebP's
// EXIF chunk (the places PIL's getexif reads); 1 when absent or unreadable.
int exif_orientation(std::span<const uint8_t> bytes);

// Applies an EXIF orientation (2..8) the way PIL's ImageOps.exif_transpose does; 1 or unknown → copy.
Image apply_exif_orientation(const Image& src, int orientation);

// Decodes encoded image bytes (e.g. base64-decoded data from the server). Errors name the problem:
// empty input, unsupported format (with the magic bytes seen), truncated/corrupt data, zero size, or
// dimensions beyond `limits`.
Result<Image> decode_image_memory(std::span<const uint8_t> bytes, const ImageLimits& limits = {});

// Reads and decodes a file; errors start with the path.
Result<Image> decode_image_file(const std::string& path, const ImageLimits& limits = {});

}  // namespace pocket::media
