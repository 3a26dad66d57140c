// Image decoding: every format round-trips images written in-test (stb_image_write, libwebp), channel
// conversions follow PIL's convert("RGB"), EXIF orientation is applied, and bad input gives errors that
// name the problem.
#include "media/image_decode.h"

#include <gtest/gtest.h>
#include <webp/encode.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "media/test_images.h"

// The stb_image_write implementation for all unit tests (test_images.h has the declarations).
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

namespace pocket::media {
namespace {

// 2×1 RGB PNG with 16-bit samples (0x1234, 0xABCD, 0xFF00), (0x00FF, 0x8080, 0x0001).
constexpr uint8_t kRgb16Png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x10, 0x02, 0x00, 0x00, 0x00, 0x2b, 0xd0, 0x34,
    0x9e, 0x00, 0x00, 0x00, 0x15, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x10, 0x32, 0x59, 0x7d,
    0xf6, 0x3f, 0x03, 0xc3, 0xff, 0x86, 0x06, 0x06, 0x46, 0x00, 0x21, 0x78, 0x04, 0xbe, 0x49, 0x56,
    0x10, 0xa9, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};
// 2×1 grayscale PNG with 16-bit samples 0x1234, 0xFFFF.
constexpr uint8_t kGray16Png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
    0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x10, 0x00, 0x00, 0x00, 0x00, 0x81, 0xd9, 0xfc, 0x15, 0x00, 0x00, 0x00,
    0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x10, 0x32, 0xf9, 0xff, 0x1f, 0x00, 0x03, 0xe6, 0x02, 0x45,
    0xf1, 0x1c, 0x84, 0x65, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};
// 3×2 GIF89a (ImageMagick): red everywhere except (1,0) blue and (2,1) lime.
constexpr uint8_t kGif3x2[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x03, 0x00, 0x02, 0x00, 0xf1, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00,
    0xff, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2c,
    0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x02, 0x03, 0x84, 0x80, 0x51, 0x00, 0x3b,
};

std::span<const uint8_t> span_of(const std::vector<uint8_t>& v) { return {v.data(), v.size()}; }

Image decode_ok(std::span<const uint8_t> bytes) {
  auto img = decode_image_memory(bytes);
  EXPECT_TRUE(img.ok()) << (img.ok() ? "" : img.error().message);
  return img.ok() ? *img : Image{};
}

std::string decode_error(std::span<const uint8_t> bytes, const ImageLimits& limits = {}) {
  auto img = decode_image_memory(bytes, limits);
  EXPECT_FALSE(img.ok());
  return img.ok() ? std::string() : img.error().message;
}

int max_abs_diff(const Image& a, const Image& b) {
  int m = 0;
  for (size_t i = 0; i < a.rgb.size() && i < b.rgb.size(); ++i) m = std::max(m, std::abs(a.rgb[i] - b.rgb[i]));
  return m;
}

TEST(ImageDecode, DetectsFormatsByMagic) {
  const Image img = test_pattern(5, 4);
  EXPECT_EQ(detect_image_format(span_of(encode_png(img))), ImageFormat::kPng);
  EXPECT_EQ(detect_image_format(span_of(encode_jpeg(img, 90))), ImageFormat::kJpeg);
  EXPECT_EQ(detect_image_format(span_of(encode_bmp(img))), ImageFormat::kBmp);
  EXPECT_EQ(detect_image_format(span_of(encode_webp_lossless(img))), ImageFormat::kWebp);
  EXPECT_EQ(detect_image_format(kGif3x2), ImageFormat::kGif);
  const uint8_t pdf[] = {'%', 'P', 'D', 'F', '-', '1', '.', '4'};
  EXPECT_EQ(detect_image_format(pdf), ImageFormat::kUnknown);
}

TEST(ImageDecode, LosslessFormatsRoundTripExactly) {
  const Image img = test_pattern(7, 5);
  for (const auto& bytes : {encode_png(img), encode_bmp(img), encode_webp_lossless(img)}) {
    const Image out = decode_ok(span_of(bytes));
    EXPECT_EQ(out.width, 7);
    EXPECT_EQ(out.height, 5);
    EXPECT_EQ(out.rgb, img.rgb);
  }
}

TEST(ImageDecode, LossyFormatsStayClose) {
  const Image img = smooth_pattern(64, 48);
  const Image jpg = decode_ok(span_of(encode_jpeg(img, 100)));
  ASSERT_EQ(jpg.width, 64);
  ASSERT_EQ(jpg.height, 48);
  EXPECT_LE(max_abs_diff(jpg, img), 12);
  const Image webp = decode_ok(span_of(encode_webp_lossy(img, 100)));
  ASSERT_EQ(webp.width, 64);
  ASSERT_EQ(webp.height, 48);
  double sum = 0;
  for (size_t i = 0; i < img.rgb.size(); ++i) sum += std::abs(webp.rgb[i] - img.rgb[i]);
  EXPECT_LE(sum / static_cast<double>(img.rgb.size()), 4.0);  // 4:2:0 chroma: mean, not max
}

TEST(ImageDecode, GifFirstFrame) {
  const Image out = decode_ok(kGif3x2);
  ASSERT_EQ(out.width, 3);
  ASSERT_EQ(out.height, 2);
  EXPECT_EQ(out.at(0, 0, 0), 255);
  EXPECT_EQ(out.at(0, 1, 2), 255);  // blue
  EXPECT_EQ(out.at(0, 1, 0), 0);
  EXPECT_EQ(out.at(1, 2, 1), 255);  // lime
  EXPECT_EQ(out.at(1, 2, 0), 0);
}

TEST(ImageDecode, GrayscaleIsReplicatedAndAlphaDropped) {
  // Gray (1 channel), gray+alpha (2) and RGBA (4) PNGs: PIL convert("RGB") copies gray into R, G, B
  // and drops alpha without compositing; even fully transparent pixels keep their stored colour.
  const uint8_t gray[] = {0, 100, 200, 255};
  std::vector<uint8_t> g = encode_png_raw(gray, 2, 2, 1);
  Image out = decode_ok(span_of(g));
  ASSERT_EQ(out.rgb.size(), 12u);
  for (int i = 0; i < 4; ++i) {
    for (int c = 0; c < 3; ++c) EXPECT_EQ(out.rgb[i * 3 + c], gray[i]);
  }
  const uint8_t gray_alpha[] = {10, 0, 20, 255, 30, 128, 40, 7};
  out = decode_ok(span_of(encode_png_raw(gray_alpha, 2, 2, 2)));
  for (int i = 0; i < 4; ++i) {
    for (int c = 0; c < 3; ++c) EXPECT_EQ(out.rgb[i * 3 + c], gray_alpha[i * 2]);
  }
  const uint8_t rgba[] = {1, 2, 3, 0, 4, 5, 6, 255, 7, 8, 9, 128, 250, 251, 252, 1};
  out = decode_ok(span_of(encode_png_raw(rgba, 2, 2, 4)));
  for (int i = 0; i < 4; ++i) {
    for (int c = 0; c < 3; ++c) EXPECT_EQ(out.rgb[i * 3 + c], rgba[i * 4 + c]);
  }
}

TEST(ImageDecode, SixteenBitPngKeepsHighByte) {
  Image out = decode_ok(kRgb16Png);
  ASSERT_EQ(out.width, 2);
  EXPECT_EQ(out.rgb, (std::vector<uint8_t>{0x12, 0xAB, 0xFF, 0x00, 0x80, 0x00}));
  out = decode_ok(kGray16Png);
  EXPECT_EQ(out.rgb, (std::vector<uint8_t>{0x12, 0x12, 0x12, 0xFF, 0xFF, 0xFF}));
}

TEST(ImageDecode, ExifOrientationMatchesPilExifTranspose) {
  // 3×2 image with distinct pixels; expected layouts from PIL's exif_transpose method table.
  Image src;
  src.width = 3;
  src.height = 2;
  for (int i = 0; i < 6; ++i) src.rgb.insert(src.rgb.end(), {static_cast<uint8_t>(i), 0, 0});
  auto layout = [](const Image& im) {
    std::vector<int> v;
    for (int y = 0; y < im.height; ++y)
      for (int x = 0; x < im.width; ++x) v.push_back(im.at(y, x, 0));
    return v;
  };
  // Source rows: [0 1 2] [3 4 5].
  EXPECT_EQ(layout(apply_exif_orientation(src, 1)), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(layout(apply_exif_orientation(src, 2)), (std::vector<int>{2, 1, 0, 5, 4, 3}));
  EXPECT_EQ(layout(apply_exif_orientation(src, 3)), (std::vector<int>{5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(layout(apply_exif_orientation(src, 4)), (std::vector<int>{3, 4, 5, 0, 1, 2}));
  EXPECT_EQ(layout(apply_exif_orientation(src, 5)), (std::vector<int>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(layout(apply_exif_orientation(src, 6)), (std::vector<int>{3, 0, 4, 1, 5, 2}));
  EXPECT_EQ(layout(apply_exif_orientation(src, 7)), (std::vector<int>{5, 2, 4, 1, 3, 0}));
  EXPECT_EQ(layout(apply_exif_orientation(src, 8)), (std::vector<int>{2, 5, 1, 4, 0, 3}));
  EXPECT_EQ(apply_exif_orientation(src, 6).width, 2);
  EXPECT_EQ(apply_exif_orientation(src, 6).height, 3);
}

TEST(ImageDecode, JpegExifOrientationIsApplied) {
  const Image img = smooth_pattern(32, 16);
  for (bool big_endian : {false, true}) {
    const std::vector<uint8_t> jpg = with_exif_orientation(encode_jpeg(img, 95), 6, big_endian);
    EXPECT_EQ(exif_orientation(span_of(jpg)), 6);
    const Image out = decode_ok(span_of(jpg));
    EXPECT_EQ(out.width, 16);
    EXPECT_EQ(out.height, 32);
    const Image plain = decode_ok(span_of(encode_jpeg(img, 95)));
    EXPECT_EQ(out.rgb, apply_exif_orientation(plain, 6).rgb);
  }
  EXPECT_EQ(exif_orientation(span_of(encode_jpeg(img, 95))), 1);
}

TEST(ImageDecode, PngAndWebpExifOrientationIsApplied) {
  // Seeds written by PIL from the same 16×12 picture as seed-rgb.png: PNG with eXIf orientation 8 and
  // lossless WebP with an EXIF chunk holding orientation 3 (PIL's exif_transpose honours both).
  const std::string dir = std::string(POCKET_SOURCE_DIR) + "/tests/corpus/image/";
  auto plain = decode_image_file(dir + "seed-rgb.png");
  auto png8 = decode_image_file(dir + "seed-exif8.png");
  auto webp3 = decode_image_file(dir + "seed-exif3.webp");
  ASSERT_TRUE(plain.ok() && png8.ok() && webp3.ok());
  EXPECT_EQ(png8->width, 12);
  EXPECT_EQ(png8->height, 16);
  EXPECT_EQ(png8->rgb, apply_exif_orientation(*plain, 8).rgb);
  EXPECT_EQ(webp3->width, 16);
  EXPECT_EQ(webp3->rgb, apply_exif_orientation(*plain, 3).rgb);
}

TEST(ImageDecode, BadInputGivesNamedErrors) {
  const Image img = smooth_pattern(40, 30);
  EXPECT_NE(decode_error({}).find("empty"), std::string::npos);
  const uint8_t pdf[] = {'%', 'P', 'D', 'F', '-', '1', '.', '4', '\n'};
  const std::string e = decode_error(pdf);
  EXPECT_NE(e.find("unsupported image format PDF"), std::string::npos) << e;
  EXPECT_NE(e.find("25 50 44 46"), std::string::npos) << e;
  const uint8_t junk[] = {1, 2, 3};
  EXPECT_NE(decode_error(junk).find("unsupported image format"), std::string::npos);

  for (auto bytes : {encode_png(img), encode_jpeg(img, 90), encode_bmp(img), encode_webp_lossy(img, 80)}) {
    const std::string fmt = image_format_name(detect_image_format(span_of(bytes)));
    for (size_t keep : {bytes.size() / 2, size_t{20}, size_t{10}}) {
      std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(keep));
      const std::string err = decode_error(span_of(cut));
      EXPECT_TRUE(err.find("truncated") != std::string::npos || err.find("corrupt") != std::string::npos)
          << fmt << " cut to " << keep << ": " << err;
    }
  }
}

TEST(ImageDecode, SizeLimitsAreCheckedFromTheHeader) {
  const Image img = test_pattern(16, 8);
  std::vector<uint8_t> png = encode_png(img);
  ImageLimits small;
  small.max_side = 10;
  EXPECT_NE(decode_error(span_of(png), small).find("16x8 exceeds the limit of 10 pixels per side"), std::string::npos);
  small = {};
  small.max_pixels = 100;
  EXPECT_NE(decode_error(span_of(png), small).find("128 pixels exceeds the limit of 100"), std::string::npos);
  small = {};
  small.max_file_bytes = 10;
  EXPECT_NE(decode_error(span_of(png), small).find("too large"), std::string::npos);

  // A PNG header claiming 60000×60000 (a decompression bomb) is refused before decoding. stb_image does
  // not check chunk CRCs, so patching IHDR is enough.
  std::vector<uint8_t> bomb = png;
  const uint8_t huge[] = {0x00, 0x00, 0xEA, 0x60};  // 60000
  std::memcpy(&bomb[16], huge, 4);
  std::memcpy(&bomb[20], huge, 4);
  EXPECT_NE(decode_error(span_of(bomb)).find("60000x60000"), std::string::npos);
  // Zero width.
  std::vector<uint8_t> zero = png;
  std::memset(&zero[16], 0, 4);
  const std::string z = decode_error(span_of(zero));
  EXPECT_NE(z.find("zero-size PNG image (0x8)"), std::string::npos) << z;
}

TEST(ImageDecode, CompressionBombsAndOverlongChunksAreRefused) {
  // 65 KB PNG declaring 16×16 whose IDAT inflates to 64 MB, and a fuzzer find whose chunk claims ~2 GB:
  // both fail fast with a clear error instead of allocating what the data claims.
  const std::string dir = std::string(POCKET_SOURCE_DIR) + "/tests/corpus/image/";
  auto bomb = decode_image_file(dir + "bomb-zlib-64mb.png");
  ASSERT_FALSE(bomb.ok());
  EXPECT_NE(bomb.error().message.find("decompression bomb"), std::string::npos) << bomb.error().message;
  auto overlong = decode_image_file(dir + "oom-png-chunk-length-past-end.png");
  ASSERT_FALSE(overlong.ok());
  EXPECT_NE(overlong.error().message.find("truncated PNG"), std::string::npos) << overlong.error().message;
}

TEST(ImageDecode, FileErrorsNameThePath) {
  auto missing = decode_image_file("/nonexistent/photo.jpg");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/nonexistent/photo.jpg"), std::string::npos);
  const auto dir = std::filesystem::temp_directory_path();
  auto not_file = decode_image_file(dir.string());
  ASSERT_FALSE(not_file.ok());
  const auto path = dir / "pocket_image_decode_test.png";
  const std::vector<uint8_t> png = encode_png(test_pattern(3, 3));
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(png.data()), png.size());
  auto ok = decode_image_file(path.string());
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->rgb, test_pattern(3, 3).rgb);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace pocket::media
