// Image decoding: libjpeg-turbo (JPEG, jpeg_decode.cpp), stb_image (PNG, BMP, GIF), libwebp (WebP), EXIF
// orientation through libexif. Every size is checked from the header (image_container.h) before pixels
// are decoded, and the container checks there turn truncated or lying files into clear errors instead
// of silently decoded garbage or huge allocations.
#include "media/image_decode.h"

#include <libexif/exif-data.h>
#include <sys/stat.h>
#include <webp/decode.h>
#include <webp/demux.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string_view>

#include "media/image_container.h"
#include "media/jpeg_decode.h"

// stb_image: only the formats it decodes for us (JPEG goes to libjpeg-turbo, see jpeg_decode.h; formats
// without magic bytes, like TGA, must not match arbitrary data), and no stdio (files are read here, with
// the size limit applied first).
//
// Every stb allocation goes through a per-thread cap set from the checked header dimensions just before
// stb runs: stb grows its zlib output buffer on demand, so a small PNG whose IDAT inflates far beyond
// what width × height needs (a zlib bomb) would otherwise reach gigabytes before stb notices. This
// thread_local is the one piece of global state here, confined to the allocator hook.
namespace pocket::media::stb_alloc {
thread_local size_t cap = SIZE_MAX;
inline void* malloc_capped(size_t n) { return n > cap ? nullptr : std::malloc(n); }
inline void* realloc_capped(void* p, size_t n) { return n > cap ? nullptr : std::realloc(p, n); }
}  // namespace pocket::media::stb_alloc
#define STBI_MALLOC(sz) pocket::media::stb_alloc::malloc_capped(sz)
#define STBI_REALLOC(p, newsz) pocket::media::stb_alloc::realloc_capped(p, newsz)
#define STBI_FREE(p) std::free(p)
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#include <stb/stb_image.h>

namespace pocket::media {
namespace {

struct StbiFree {
  void operator()(stbi_uc* p) const { stbi_image_free(p); }
};
struct WebpFree {
  void operator()(uint8_t* p) const { WebPFree(p); }
};
struct AnimDecoderDelete {
  void operator()(WebPAnimDecoder* p) const { WebPAnimDecoderDelete(p); }
};
struct ExifUnref {
  void operator()(ExifData* p) const { exif_data_unref(p); }
};

std::string hex_prefix(std::span<const uint8_t> bytes) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < bytes.size() && i < 8; ++i) {
    std::snprintf(buf, sizeof buf, "%s%02x", i ? " " : "", bytes[i]);
    s += buf;
  }
  return s;
}

// A name for common formats we do not decode, so the error says what the file is.
const char* unsupported_format_name(std::span<const uint8_t> b) {
  auto starts = [&](std::string_view magic, size_t at = 0) {
    return b.size() >= at + magic.size() && std::memcmp(b.data() + at, magic.data(), magic.size()) == 0;
  };
  using namespace std::string_view_literals;
  if (starts("II*\0"sv) || starts("MM\0*"sv)) return "TIFF";
  if (starts("ftypheic"sv, 4) || starts("ftypheix"sv, 4) || starts("ftypmif1"sv, 4)) return "HEIF";
  if (starts("ftypavif"sv, 4)) return "AVIF";
  if (starts("%PDF"sv)) return "PDF";
  if (starts("<?xml"sv) || starts("<svg"sv)) return "SVG/XML";
  if (starts("\0\0\1\0"sv)) return "ICO";
  if (starts("8BPS"sv)) return "PSD";
  if (starts("\xff\x0a"sv) || starts("\0\0\0\x0cJXL "sv)) return "JPEG XL";
  return nullptr;
}

// True when the data is too short to hold a supported format's magic but starts like one.
bool truncated_magic(std::span<const uint8_t> b) {
  for (std::string_view magic : {std::string_view("\x89PNG\r\n\x1a\n", 8), std::string_view("\xff\xd8\xff", 3),
                                 std::string_view("RIFF"), std::string_view("GIF8")}) {
    if (b.size() < magic.size() && std::memcmp(b.data(), magic.data(), b.size()) == 0) return true;
  }
  return b.size() < 12 && b.size() >= 4 && std::memcmp(b.data(), "RIFF", 4) == 0;
}

Status check_dimensions(ImageFormat f, int64_t w, int64_t h, const ImageLimits& limits) {
  const std::string name = image_format_name(f);
  if (w <= 0 || h <= 0) {
    return Error{"zero-size " + name + " image (" + std::to_string(w) + "x" + std::to_string(h) + ")"};
  }
  if (w > limits.max_side || h > limits.max_side) {
    return Error{name + " image too large: " + std::to_string(w) + "x" + std::to_string(h) + " exceeds the limit of " +
                 std::to_string(limits.max_side) + " pixels per side"};
  }
  if (w * h > limits.max_pixels) {
    return Error{name + " image too large: " + std::to_string(w) + "x" + std::to_string(h) + " = " +
                 std::to_string(w * h) + " pixels exceeds the limit of " + std::to_string(limits.max_pixels)};
  }
  return Status::Ok();
}

// First frame of an animated WebP, composed on the canvas as PIL's WebPAnimDecoder-based reader shows it
// (non-premultiplied RGBA on a zero-filled canvas; alpha then dropped).
Result<Image> decode_webp_first_frame(std::span<const uint8_t> bytes, int canvas_w, int canvas_h) {
  WebPAnimDecoderOptions opts;
  if (!WebPAnimDecoderOptionsInit(&opts)) return Error{"WebP animation decoder unavailable"};
  opts.color_mode = MODE_RGBA;
  opts.use_threads = 0;
  const WebPData data{bytes.data(), bytes.size()};
  std::unique_ptr<WebPAnimDecoder, AnimDecoderDelete> dec(WebPAnimDecoderNew(&data, &opts));
  if (!dec) return Error{"corrupt or truncated animated WebP image"};
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(dec.get(), &info) || static_cast<int>(info.canvas_width) != canvas_w ||
      static_cast<int>(info.canvas_height) != canvas_h) {
    return Error{"corrupt animated WebP image (canvas size)"};
  }
  uint8_t* rgba = nullptr;
  int timestamp = 0;
  if (!WebPAnimDecoderGetNext(dec.get(), &rgba, &timestamp) || !rgba) {
    return Error{"corrupt or truncated animated WebP image (first frame)"};
  }
  Image img;
  img.width = canvas_w;
  img.height = canvas_h;
  const size_t n = static_cast<size_t>(canvas_w) * canvas_h;
  img.rgb.resize(n * 3);
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) img.rgb[i * 3 + c] = rgba[i * 4 + c];
  }
  return img;
}

Result<Image> decode_webp(std::span<const uint8_t> bytes, const ImageLimits& limits) {
  WebPBitstreamFeatures features;
  const VP8StatusCode st = WebPGetFeatures(bytes.data(), bytes.size(), &features);
  if (st == VP8_STATUS_NOT_ENOUGH_DATA) return Error{"truncated WebP image (header incomplete)"};
  if (st != VP8_STATUS_OK) return Error{"corrupt WebP image (bad header)"};
  if (Status s = check_dimensions(ImageFormat::kWebp, features.width, features.height, limits); !s) {
    return s.error();
  }
  if (features.has_animation) return decode_webp_first_frame(bytes, features.width, features.height);
  int w = 0, h = 0;
  std::unique_ptr<uint8_t, WebpFree> px(WebPDecodeRGB(bytes.data(), bytes.size(), &w, &h));
  if (!px) return Error{"corrupt or truncated WebP image (decoding failed)"};
  if (w != features.width || h != features.height) return Error{"corrupt WebP image (size changed while decoding)"};
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.assign(px.get(), px.get() + static_cast<size_t>(w) * h * 3);
  return img;
}

Result<Image> decode_with_codec(ImageFormat f, std::span<const uint8_t> bytes, const ImageLimits& limits) {
  const std::string name = image_format_name(f);
  const int len = static_cast<int>(bytes.size());
  int64_t hw = 0, hh = 0;
  if (!container::header_dimensions(f, bytes, hw, hh)) return Error{"truncated " + name + " image (header incomplete)"};
  if (Status s = check_dimensions(f, hw, hh, limits); !s) return s.error();
  if (f == ImageFormat::kJpeg) return decode_jpeg_libjpeg(bytes, static_cast<int>(hw), static_cast<int>(hh));
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &comp)) {
    const char* why = stbi_failure_reason();
    return Error{"corrupt or truncated " + name + " image (header: " + (why ? why : "unreadable") + ")"};
  }
  if (f == ImageFormat::kPng && !container::png_chunks_complete(bytes)) {
    return Error{"truncated PNG image (a chunk runs past the end of the data)"};
  }
  if (f == ImageFormat::kBmp && !container::bmp_pixels_present(bytes)) {
    return Error{"truncated BMP image (pixel data shorter than " + std::to_string(w) + "x" + std::to_string(h) + ")"};
  }
  // GIF: decode with alpha so transparent pixels can be given their palette colour below.
  const bool gif = f == ImageFormat::kGif;
  // Largest buffer stb legitimately needs: 16-bit RGBA rows plus filter bytes (8·w·h + h), doubled by its
  // grow-by-two policy, or twice the compressed data; anything beyond is a zlib bomb.
  const size_t legit = std::max<size_t>(16 * static_cast<size_t>(w) * h + 2 * static_cast<size_t>(h), 2 * bytes.size());
  stb_alloc::cap = legit + (size_t{16} << 20);
  int dw = 0, dh = 0, dc = 0;
  std::unique_ptr<stbi_uc, StbiFree> px(stbi_load_from_memory(bytes.data(), len, &dw, &dh, &dc, gif ? 4 : 3));
  stb_alloc::cap = SIZE_MAX;
  if (!px) {
    const char* why = stbi_failure_reason();
    if (why && std::strcmp(why, "outofmem") == 0) {
      return Error{"corrupt " + name + " image (its data expands far beyond " + std::to_string(w) + "x" +
                   std::to_string(h) + " pixels: decompression bomb?)"};
    }
    return Error{"corrupt or truncated " + name + " image (" + (why ? why : "decoding failed") + ")"};
  }
  if (dw != w || dh != h) return Error{"corrupt " + name + " image (size changed while decoding)"};
  Image img;
  img.width = w;
  img.height = h;
  const size_t n = static_cast<size_t>(w) * h;
  if (!gif) {
    img.rgb.assign(px.get(), px.get() + n * 3);
    return img;
  }
  // PIL reads a GIF's first frame as palette indices, so convert("RGB") shows a transparent pixel as the
  // palette colour of the transparent index; stb leaves it (0, 0, 0, alpha 0).
  uint8_t fill[3] = {0, 0, 0};
  container::gif_transparent_colour(bytes, fill);
  img.rgb.resize(n * 3);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = px.get() + i * 4;
    const uint8_t* src = p[3] == 0 ? fill : p;
    img.rgb[i * 3 + 0] = src[0];
    img.rgb[i * 3 + 1] = src[1];
    img.rgb[i * 3 + 2] = src[2];
  }
  return img;
}

}  // namespace

const char* image_format_name(ImageFormat f) {
  switch (f) {
    case ImageFormat::kPng:
      return "PNG";
    case ImageFormat::kJpeg:
      return "JPEG";
    case ImageFormat::kWebp:
      return "WebP";
    case ImageFormat::kBmp:
      return "BMP";
    case ImageFormat::kGif:
      return "GIF";
    default:
      return "unknown";
  }
}

ImageFormat detect_image_format(std::span<const uint8_t> b) {
  auto starts = [&](const char* magic, size_t len, size_t at = 0) {
    return b.size() >= at + len && std::memcmp(b.data() + at, magic, len) == 0;
  };
  if (starts("\x89PNG\r\n\x1a\n", 8)) return ImageFormat::kPng;
  if (starts("\xff\xd8\xff", 3)) return ImageFormat::kJpeg;
  if (starts("RIFF", 4) && starts("WEBP", 4, 8)) return ImageFormat::kWebp;
  if (starts("GIF87a", 6) || starts("GIF89a", 6)) return ImageFormat::kGif;
  if (starts("BM", 2)) return ImageFormat::kBmp;
  return ImageFormat::kUnknown;
}

int exif_orientation(std::span<const uint8_t> bytes) {
  std::span<const uint8_t> payload;
  switch (detect_image_format(bytes)) {
    case ImageFormat::kJpeg:
      payload = container::walk_jpeg(bytes).exif;
      break;
    case ImageFormat::kPng:
      payload = container::png_exif(bytes);
      break;
    case ImageFormat::kWebp:
      payload = container::webp_exif(bytes);
      break;
    default:
      return 1;
  }
  if (payload.empty() || payload.size() > UINT_MAX - 6) return 1;
  // libexif wants the "Exif\0\0" header in front of the TIFF data; PNG and WebP usually store it bare.
  std::vector<uint8_t> with_header;
  if (payload.size() < 6 || std::memcmp(payload.data(), "Exif\0\0", 6) != 0) {
    with_header.reserve(payload.size() + 6);
    for (char c : {'E', 'x', 'i', 'f', '\0', '\0'}) with_header.push_back(static_cast<uint8_t>(c));
    with_header.insert(with_header.end(), payload.begin(), payload.end());
    payload = with_header;
  }
  std::unique_ptr<ExifData, ExifUnref> ed(exif_data_new());
  if (!ed) return 1;
  // Read the tags as stored: "following the specification" would let libexif add or fix entries.
  exif_data_unset_option(ed.get(), EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_load_data(ed.get(), payload.data(), static_cast<unsigned int>(payload.size()));
  // PIL reads the orientation of IFD0 (the main image), which is where cameras write it.
  ExifEntry* e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
  if (!e || e->format != EXIF_FORMAT_SHORT || e->components < 1 || e->size < 2 || !e->data) return 1;
  const int v = exif_get_short(e->data, exif_data_get_byte_order(ed.get()));
  return v >= 1 && v <= 8 ? v : 1;
}

Image apply_exif_orientation(const Image& src, int orientation) {
  if (orientation < 2 || orientation > 8) return src;
  const int w = src.width, h = src.height;
  const bool swap = orientation >= 5;  // 5..8 exchange width and height
  Image out;
  out.width = swap ? h : w;
  out.height = swap ? w : h;
  out.rgb.resize(src.rgb.size());
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      int oy = y, ox = x;
      switch (orientation) {
        case 2:
          ox = w - 1 - x;
          break;  // mirror left-right
        case 3:
          oy = h - 1 - y;
          ox = w - 1 - x;
          break;  // rotate 180
        case 4:
          oy = h - 1 - y;
          break;  // mirror top-bottom
        case 5:
          oy = x;
          ox = y;
          break;  // transpose
        case 6:
          oy = x;
          ox = h - 1 - y;
          break;  // rotate 90 clockwise
        case 7:
          oy = w - 1 - x;
          ox = h - 1 - y;
          break;  // transverse
        case 8:
          oy = w - 1 - x;
          ox = y;
          break;  // rotate 90 counter-clockwise
      }
      const uint8_t* s = &src.rgb[(static_cast<size_t>(y) * w + x) * 3];
      uint8_t* d = &out.rgb[(static_cast<size_t>(oy) * out.width + ox) * 3];
      d[0] = s[0];
      d[1] = s[1];
      d[2] = s[2];
    }
  }
  return out;
}

Result<Image> decode_image_memory(std::span<const uint8_t> bytes, const ImageLimits& limits) {
  if (bytes.empty()) return Error{"empty image data (0 bytes)"};
  if (bytes.size() > limits.max_file_bytes || bytes.size() > static_cast<size_t>(INT_MAX)) {
    return Error{"image data too large: " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                 std::to_string(limits.max_file_bytes)};
  }
  const ImageFormat f = detect_image_format(bytes);
  if (f != ImageFormat::kUnknown) {
    if (f == ImageFormat::kJpeg && !container::walk_jpeg(bytes).complete) {
      return Error{"truncated JPEG image (no end-of-image marker)"};
    }
    auto img = f == ImageFormat::kWebp ? decode_webp(bytes, limits) : decode_with_codec(f, bytes, limits);
    if (!img) return img;
    // HF's load_image applies ImageOps.exif_transpose to every format PIL reads EXIF from.
    const int orientation = exif_orientation(bytes);
    if (orientation == 1) return img;
    return apply_exif_orientation(*img, orientation);
  }
  if (truncated_magic(bytes)) return Error{"truncated image (" + std::to_string(bytes.size()) + " bytes)"};
  const char* known = unsupported_format_name(bytes);
  return Error{std::string("unsupported image format") + (known ? std::string(" ") + known : std::string()) +
               " (first bytes: " + hex_prefix(bytes) + "; supported: PNG, JPEG, WebP, BMP, GIF)"};
}

Result<Image> decode_image_file(const std::string& path, const ImageLimits& limits) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error{path + ": cannot open image (" + std::strerror(errno) + ")"};
  if (!S_ISREG(st.st_mode)) return Error{path + ": not a regular file"};
  if (static_cast<uint64_t>(st.st_size) > limits.max_file_bytes) {
    return Error{path + ": image file too large: " + std::to_string(st.st_size) + " bytes exceeds the limit of " +
                 std::to_string(limits.max_file_bytes)};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open image"};
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  if (!bytes.empty() && !in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()))) {
    return Error{path + ": cannot read image"};
  }
  auto img = decode_image_memory(bytes, limits);
  if (!img) return Error{path + ": " + img.error().message};
  return img;
}

}  // namespace pocket::media
