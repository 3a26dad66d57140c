// Test helpers (unit tests only): deterministic pictures and encoders to PNG/JPEG/BMP (stb_image_write,
// whose implementation is compiled into image_decode_test.cpp) and WebP (libwebp), plus an EXIF
// orientation segment writer.
#pragma once

#include <stb/stb_image_write.h>
#include <webp/encode.h>

#include <cstdint>
#include <vector>

#include "media/image_decode.h"

namespace pocket::media {

// Busy pattern with every channel different (good for exact round trips and resampling edge cases).
inline Image test_pattern(int w, int h) {
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &img.rgb[(static_cast<size_t>(y) * w + x) * 3];
      p[0] = static_cast<uint8_t>((x * 37 + y * 11) & 255);
      p[1] = static_cast<uint8_t>((x * 5 + y * 53 + 17) & 255);
      p[2] = static_cast<uint8_t>(((x ^ y) * 29 + 101) & 255);
    }
  }
  return img;
}

// Smooth gradients (lossy codecs reproduce them closely).
inline Image smooth_pattern(int w, int h) {
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &img.rgb[(static_cast<size_t>(y) * w + x) * 3];
      p[0] = static_cast<uint8_t>(255 * x / (w > 1 ? w - 1 : 1));
      p[1] = static_cast<uint8_t>(255 * y / (h > 1 ? h - 1 : 1));
      p[2] = static_cast<uint8_t>(128 + 100 * ((x + y) % 16) / 16 - 50);
    }
  }
  return img;
}

inline void append_bytes(void* ctx, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(ctx);
  const auto* b = static_cast<const uint8_t*>(data);
  out->insert(out->end(), b, b + size);
}

inline std::vector<uint8_t> encode_png_raw(const uint8_t* px, int w, int h, int comp) {
  std::vector<uint8_t> out;
  stbi_write_png_to_func(append_bytes, &out, w, h, comp, px, w * comp);
  return out;
}
inline std::vector<uint8_t> encode_png(const Image& img) {
  return encode_png_raw(img.rgb.data(), img.width, img.height, 3);
}
inline std::vector<uint8_t> encode_jpeg(const Image& img, int quality) {
  std::vector<uint8_t> out;
  stbi_write_jpg_to_func(append_bytes, &out, img.width, img.height, 3, img.rgb.data(), quality);
  return out;
}
inline std::vector<uint8_t> encode_bmp(const Image& img) {
  std::vector<uint8_t> out;
  stbi_write_bmp_to_func(append_bytes, &out, img.width, img.height, 3, img.rgb.data());
  return out;
}
inline std::vector<uint8_t> encode_webp_lossless(const Image& img) {
  uint8_t* buf = nullptr;
  const size_t n = WebPEncodeLosslessRGB(img.rgb.data(), img.width, img.height, img.width * 3, &buf);
  std::vector<uint8_t> out(buf, buf + n);
  WebPFree(buf);
  return out;
}
inline std::vector<uint8_t> encode_webp_lossy(const Image& img, float quality) {
  uint8_t* buf = nullptr;
  const size_t n = WebPEncodeRGB(img.rgb.data(), img.width, img.height, img.width * 3, quality, &buf);
  std::vector<uint8_t> out(buf, buf + n);
  WebPFree(buf);
  return out;
}

// Inserts an APP1 EXIF segment holding only IFD0 Orientation right after the JPEG's SOI marker.
inline std::vector<uint8_t> with_exif_orientation(const std::vector<uint8_t>& jpeg, int orientation, bool big_endian) {
  auto u16 = [&](std::vector<uint8_t>& v, unsigned x) {
    if (big_endian) {
      v.push_back(static_cast<uint8_t>(x >> 8));
      v.push_back(static_cast<uint8_t>(x));
    } else {
      v.push_back(static_cast<uint8_t>(x));
      v.push_back(static_cast<uint8_t>(x >> 8));
    }
  };
  auto u32 = [&](std::vector<uint8_t>& v, unsigned x) {
    if (big_endian) {
      u16(v, x >> 16);
      u16(v, x & 0xFFFF);
    } else {
      u16(v, x & 0xFFFF);
      u16(v, x >> 16);
    }
  };
  std::vector<uint8_t> tiff;
  tiff.push_back(big_endian ? 'M' : 'I');
  tiff.push_back(big_endian ? 'M' : 'I');
  u16(tiff, 42);
  u32(tiff, 8);                                   // IFD0 offset
  u16(tiff, 1);                                   // one entry
  u16(tiff, 0x0112);                              // Orientation
  u16(tiff, 3);                                   // SHORT
  u32(tiff, 1);                                   // count
  u16(tiff, static_cast<unsigned>(orientation));  // value, left-justified in the 4-byte field
  u16(tiff, 0);
  u32(tiff, 0);  // no next IFD
  // Built byte by byte: GCC 12 reports false array-bounds errors for range inserts here.
  const size_t len = 2 + 6 + tiff.size();
  std::vector<uint8_t> out;
  out.reserve(jpeg.size() + 2 + len);
  for (size_t i = 0; i < 2; ++i) out.push_back(jpeg[i]);
  for (uint8_t b : {uint8_t{0xFF}, uint8_t{0xE1}, static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)}) {
    out.push_back(b);
  }
  for (char c : {'E', 'x', 'i', 'f', '\0', '\0'}) out.push_back(static_cast<uint8_t>(c));
  for (uint8_t b : tiff) out.push_back(b);
  for (size_t i = 2; i < jpeg.size(); ++i) out.push_back(jpeg[i]);
  return out;
}

}  // namespace pocket::media
