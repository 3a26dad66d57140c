// Container structure reads for image_decode.cpp (see image_container.h).
#include "media/image_container.h"

#include <cstring>

namespace pocket::media::container {
namespace {

uint16_t read_be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t read_le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

bool is_start_of_frame(uint8_t m) {
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;  // not DHT, JPG, DAC
}

}  // namespace

JpegLayout walk_jpeg(std::span<const uint8_t> b) {
  JpegLayout out;
  const size_t n = b.size();
  size_t pos = 2;  // after SOI
  while (pos < n) {
    if (b[pos] != 0xFF) {  // stray byte between segments: tolerated, like libjpeg
      ++pos;
      continue;
    }
    while (pos < n && b[pos] == 0xFF) ++pos;  // fill bytes
    if (pos >= n) break;
    const uint8_t marker = b[pos++];
    if (marker == 0xD9) {
      out.complete = true;
      break;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x00) continue;  // no length
    if (pos + 2 > n) break;
    const size_t len = read_be16(&b[pos]);
    if (len < 2 || pos + len > n) break;
    if (marker == 0xE1 && out.exif.empty() && len >= 2 + 6 && std::memcmp(&b[pos + 2], "Exif\0\0", 6) == 0) {
      out.exif = b.subspan(pos + 2, len - 2);
    }
    if (is_start_of_frame(marker) && out.width < 0 && len >= 7) {
      out.height = read_be16(&b[pos + 3]);
      out.width = read_be16(&b[pos + 5]);
    }
    pos += len;
    if (marker == 0xDA) {
      // Entropy-coded data runs to the next marker that is neither a stuffed 0xFF00 nor a restart.
      while (pos + 1 < n) {
        const uint8_t next = b[pos + 1];
        if (b[pos] == 0xFF && next != 0x00 && next != 0xFF && !(next >= 0xD0 && next <= 0xD7)) break;
        ++pos;
      }
      if (pos + 1 >= n) break;
    }
  }
  return out;
}

bool bmp_pixels_present(std::span<const uint8_t> b) {
  if (b.size() < 34) return false;
  const uint32_t offset = read_le32(&b[10]);
  const uint32_t dib_size = read_le32(&b[14]);
  if (dib_size < 40) return true;  // OS/2 core header: leave it to stb
  const int64_t w = static_cast<int32_t>(read_le32(&b[18]));
  const int64_t h = static_cast<int32_t>(read_le32(&b[22]));
  const int64_t bpp = b[28] | (b[29] << 8);
  const uint32_t compression = read_le32(&b[30]);
  if (compression != 0 && compression != 3) return true;  // RLE etc.: variable length
  const int64_t abs_h = h < 0 ? -h : h;
  const int64_t row_bytes = ((w * bpp + 31) / 32) * 4;
  return static_cast<int64_t>(offset) + row_bytes * abs_h <= static_cast<int64_t>(b.size());
}

bool png_chunks_complete(std::span<const uint8_t> b) {
  size_t pos = 8;
  while (pos + 12 <= b.size()) {
    const uint64_t len = (uint64_t{b[pos]} << 24) | (b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3];
    if (len > b.size() - pos - 12) return false;
    if (std::memcmp(&b[pos + 4], "IEND", 4) == 0) return true;
    pos += 12 + len;
  }
  return false;
}

std::span<const uint8_t> png_exif(std::span<const uint8_t> b) {
  size_t pos = 8;
  while (pos + 8 <= b.size()) {
    const uint64_t len = (uint64_t{b[pos]} << 24) | (b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3];
    const uint8_t* type = &b[pos + 4];
    if (len > b.size() - pos - 8) break;
    if (std::memcmp(type, "eXIf", 4) == 0) return b.subspan(pos + 8, len);
    if (std::memcmp(type, "IEND", 4) == 0) break;
    pos += 8 + len + 4;  // length, type, data, CRC
  }
  return {};
}

std::span<const uint8_t> webp_exif(std::span<const uint8_t> b) {
  size_t pos = 12;  // "RIFF" size "WEBP"
  while (pos + 8 <= b.size()) {
    const uint64_t len = read_le32(&b[pos + 4]);
    if (len > b.size() - pos - 8) break;
    if (std::memcmp(&b[pos], "EXIF", 4) == 0) return b.subspan(pos + 8, len);
    pos += 8 + len + (len & 1);  // chunks are padded to even sizes
  }
  return {};
}

void gif_transparent_colour(std::span<const uint8_t> b, uint8_t rgb[3]) {
  if (b.size() < 13) return;
  auto table_bytes = [](uint8_t packed) { return (packed & 0x80) ? size_t{3} << ((packed & 7) + 1) : size_t{0}; };
  size_t pos = 13;
  const size_t global_at = pos, global_len = table_bytes(b[10]);
  pos += global_len;
  int transparent = -1;
  while (pos < b.size()) {
    const uint8_t block = b[pos++];
    if (block == 0x21) {  // extension: label, then sub-blocks
      if (pos >= b.size()) return;
      const uint8_t label = b[pos++];
      if (label == 0xF9 && pos + 5 <= b.size() && b[pos] >= 4) transparent = (b[pos + 1] & 1) ? b[pos + 4] : -1;
      while (pos < b.size() && b[pos] != 0) pos += 1 + b[pos];
      ++pos;
    } else if (block == 0x2C) {  // first image descriptor
      if (transparent < 0 || pos + 9 > b.size()) return;
      const size_t local_len = table_bytes(b[pos + 8]);
      const size_t at = local_len ? pos + 9 : global_at;
      const size_t len = local_len ? local_len : global_len;
      const size_t entry = static_cast<size_t>(transparent) * 3;
      if (entry + 3 > len || at + entry + 3 > b.size()) return;
      for (int c = 0; c < 3; ++c) rgb[c] = b[at + entry + c];
      return;
    } else {
      return;
    }
  }
}

bool header_dimensions(ImageFormat f, std::span<const uint8_t> b, int64_t& w, int64_t& h) {
  switch (f) {
    case ImageFormat::kPng:  // IHDR is the first chunk: width, height as big-endian u32 at 16 and 20
      if (b.size() < 24 || std::memcmp(&b[12], "IHDR", 4) != 0) return false;
      w = (int64_t{b[16]} << 24) | (b[17] << 16) | (b[18] << 8) | b[19];
      h = (int64_t{b[20]} << 24) | (b[21] << 16) | (b[22] << 8) | b[23];
      return true;
    case ImageFormat::kGif:  // logical screen size, little-endian u16 at 6 and 8
      if (b.size() < 10) return false;
      w = b[6] | (b[7] << 8);
      h = b[8] | (b[9] << 8);
      return true;
    case ImageFormat::kBmp: {  // BITMAPCOREHEADER: u16 at 18, 20; later headers: i32 at 18, 22 (negative = top-down)
      if (b.size() < 26) return false;
      if (read_le32(&b[14]) == 12) {
        w = b[18] | (b[19] << 8);
        h = b[20] | (b[21] << 8);
      } else {
        w = static_cast<int32_t>(read_le32(&b[18]));
        h = static_cast<int32_t>(read_le32(&b[22]));
        if (h < 0) h = -h;
      }
      return true;
    }
    case ImageFormat::kJpeg: {
      const JpegLayout layout = walk_jpeg(b);
      if (layout.width < 0) return false;
      w = layout.width;
      h = layout.height;
      return true;
    }
    default:
      return false;
  }
}

}  // namespace pocket::media::container
