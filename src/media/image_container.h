// Container structure of the image formats, read without decoding pixels: header dimensions, the EXIF
// payload locations, and the checks that catch truncation or lying lengths the codecs do not catch
// themselves (JPEG end-of-image marker, PNG chunk lengths, BMP pixel-array bounds), plus the GIF
// transparent colour PIL shows. Internal to image_decode.cpp (and its fuzzer); every read is bounds-checked.
#pragma once

#include <cstdint>
#include <span>

#include "media/image_decode.h"

namespace pocket::media::container {

// What the JPEG segment walk finds: whether the stream reaches its end-of-image marker, the EXIF payload
// ("Exif\0\0" + TIFF data) of the first APP1 segment carrying one, and the first frame header's size.
struct JpegLayout {
  bool complete = false;
  std::span<const uint8_t> exif;
  int64_t width = -1, height = -1;
};
JpegLayout walk_jpeg(std::span<const uint8_t> b);

// For uncompressed BMPs (BI_RGB / BI_BITFIELDS with a BITMAPINFOHEADER or later), whether the file holds
// the whole pixel array. stb_image reads missing bytes as zeros, so this is where truncation shows.
bool bmp_pixels_present(std::span<const uint8_t> b);

// Whether every PNG chunk's declared length fits in the file and IEND is reached. stb_image allocates
// for a chunk's declared length before reading it, so a few bytes claiming a 2 GB IDAT would cost 2 GB.
bool png_chunks_complete(std::span<const uint8_t> b);

// The eXIf chunk's data (TIFF, sometimes with an "Exif\0\0" prefix) of a PNG, or empty.
std::span<const uint8_t> png_exif(std::span<const uint8_t> b);

// The EXIF chunk's data of an extended-format WebP, or empty.
std::span<const uint8_t> webp_exif(std::span<const uint8_t> b);

// The palette colour of the first GIF frame's transparent index (graphic control extension before the
// first image descriptor; local colour table if the frame has one, else the global one). Leaves `rgb` as
// is when the frame declares no transparency or the file ends early.
void gif_transparent_colour(std::span<const uint8_t> b, uint8_t rgb[3]);

// Width and height as the header states them, read before any decoder runs (stb_image refuses large
// images with a generic message, so the limits are applied to these). False if the header is cut short.
bool header_dimensions(ImageFormat f, std::span<const uint8_t> b, int64_t& w, int64_t& h);

}  // namespace pocket::media::container
