// Gemma 4 image preprocessing: target sizes against the spec's worked examples (§2.2) and hand-computed
// edge cases, the antialiased bicubic resampler on hand-computed taps, rescaling and the patch order.
#include "media/image_preprocess.h"

#include <gtest/gtest.h>

#include <cmath>

#include "media/test_images.h"

namespace pocket::media {
namespace {

struct TargetCase {
  int h, w, budget, th, tw, n;
};

// Spec §2.2 table plus hand-computed tiny and extreme-aspect cases: factor = sqrt(9·B·256 / (H·W)),
// each side floored to a multiple of 48; a side that floors to 0 becomes 48 and the other
// min(floor(long/short)·48, 48·B).
const TargetCase kTargets[] = {
    {1024, 1024, 70, 384, 384, 64},
    {1024, 1024, 140, 528, 528, 121},
    {1024, 1024, 280, 768, 768, 256},
    {1024, 1024, 560, 1104, 1104, 529},
    {1024, 1024, 1120, 1584, 1584, 1089},
    {1080, 1920, 70, 288, 528, 66},
    {1080, 1920, 140, 384, 720, 120},
    {1080, 1920, 280, 576, 1056, 264},
    {1080, 1920, 560, 816, 1488, 527},
    {1080, 1920, 1120, 1200, 2112, 1100},
    {480, 640, 280, 672, 912, 266},
    {224, 224, 280, 768, 768, 256},
    {100, 2000, 70, 48, 1776, 37},
    {100, 2000, 280, 144, 3552, 222},
    {100, 2000, 1120, 336, 7152, 1043},
    // Tiny images are upscaled to the same grid as any square.
    {1, 1, 280, 768, 768, 256},
    {10, 10, 70, 384, 384, 64},
    {10, 10, 1120, 1584, 1584, 1089},
    // 50×4000: the short side floors to 0 → 48, the long side min(80·48, 48·B).
    {50, 4000, 70, 48, 3360, 70},
    {50, 4000, 280, 48, 7152, 149},
    {50, 4000, 1120, 144, 14352, 897},
    {4000, 50, 70, 3360, 48, 70},
    {4000, 50, 560, 10128, 96, 422},
    {1, 100000, 280, 48, 13440, 280},
    {100000, 1, 1120, 53760, 48, 1120},
};

TEST(ImagePreprocess, ResizeTargetsMatchSpecTable) {
  for (const TargetCase& c : kTargets) {
    auto t = image_resize_target(c.h, c.w, c.budget);
    ASSERT_TRUE(t.ok()) << c.h << "x" << c.w << ": " << t.error().message;
    EXPECT_EQ(t->height, c.th) << c.h << "x" << c.w << " B=" << c.budget;
    EXPECT_EQ(t->width, c.tw) << c.h << "x" << c.w << " B=" << c.budget;
    EXPECT_EQ(t->n_soft(), c.n) << c.h << "x" << c.w << " B=" << c.budget;
    EXPECT_LE(t->n_soft(), c.budget);
  }
}

TEST(ImagePreprocess, ResizeTargetErrors) {
  EXPECT_FALSE(image_resize_target(100, 100, 256).ok());  // not a supported budget
  EXPECT_FALSE(image_resize_target(0, 100, 280).ok());
  EXPECT_FALSE(image_resize_target(100, -1, 280).ok());
  auto bad = image_resize_target(100, 100, 300);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("70, 140, 280, 560 or 1120"), std::string::npos);
  for (int b : kSupportedImageTokenBudgets) EXPECT_TRUE(is_supported_image_token_budget(b));
}

TEST(ImagePreprocess, DownscaleByTwoMatchesHandComputedTaps) {
  // One row [0, 100, 200, 255] resized 4 → 2 (scale 2, support 4). Output 0 is centred at 1.0 and reads
  // inputs 0..3 at filter positions (j − 0.5)/2 = −0.25, 0.25, 0.75, 1.25 → Keys(a=−0.5) taps
  // 0.8671875, 0.8671875, 0.2265625, −0.0703125 (sum 1.890625):
  //   (100·0.8671875 + 200·0.2265625 − 255·0.0703125) / 1.890625 = 60.35 → 60.
  // Output 1 (centre 3.0) uses the mirrored taps: (100·0.2265625 + 200·0.8671875 + 255·0.8671875) /
  // 1.890625 = 220.68 → 221.
  Image row;
  row.width = 4;
  row.height = 1;
  row.rgb = {0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255};
  for (ResampleBackend b : {ResampleBackend::kTorchvision, ResampleBackend::kPillow}) {
    const Image out = resize_bicubic_antialiased(row, 1, 2, b);
    ASSERT_EQ(out.rgb.size(), 6u);
    EXPECT_EQ(out.rgb[0], 60);
    EXPECT_EQ(out.rgb[3], 221);
    // Transposed: the same taps run down a column.
    Image col = row;
    col.width = 1;
    col.height = 4;
    const Image out_col = resize_bicubic_antialiased(col, 2, 1, b);
    EXPECT_EQ(out_col.rgb[0], 60);
    EXPECT_EQ(out_col.rgb[3], 221);
  }
}

TEST(ImagePreprocess, UpscalingOnePixelAndFlatImagesStayFlat) {
  Image one;
  one.width = one.height = 1;
  one.rgb = {12, 200, 255};
  auto t = preprocess_image(one);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->height, 768);
  EXPECT_EQ(t->width, 768);
  EXPECT_EQ(t->n_soft(), 256);
  EXPECT_EQ(t->h_patches(), 48);
  for (int y : {0, 383, 767}) {
    for (int x : {0, 500, 767}) {
      EXPECT_EQ(t->at(0, y, x), 12.0f * static_cast<float>(1.0 / 255.0));
      EXPECT_EQ(t->at(1, y, x), 200.0f * static_cast<float>(1.0 / 255.0));
      EXPECT_EQ(t->at(2, y, x), 255.0f * static_cast<float>(1.0 / 255.0));
    }
  }
  // A flat 1920×1080 picture stays flat through a downscale (the taps sum to one).
  Image flat;
  flat.width = 1920;
  flat.height = 1080;
  flat.rgb.assign(size_t{1920} * 1080 * 3, 77);
  const Image small = resize_bicubic_antialiased(flat, 576, 1056);
  for (uint8_t v : small.rgb) ASSERT_EQ(v, 77);
}

TEST(ImagePreprocess, TensorShapesForEveryBudget) {
  const Image img = test_pattern(640, 480);
  for (int b : kSupportedImageTokenBudgets) {
    ImagePreprocessOptions opts;
    opts.max_soft_tokens = b;
    auto t = preprocess_image(img, opts);
    ASSERT_TRUE(t.ok());
    auto target = image_resize_target(480, 640, b);
    ASSERT_TRUE(target.ok());
    EXPECT_EQ(t->height, target->height);
    EXPECT_EQ(t->width, target->width);
    EXPECT_EQ(t->chw.size(), size_t{3} * t->height * t->width);
    EXPECT_EQ(t->n_soft(), target->n_soft());
    for (float v : t->chw) ASSERT_TRUE(v >= 0.0f && v <= 1.0f);
  }
  ImagePreprocessOptions bad;
  bad.max_soft_tokens = 100;
  EXPECT_FALSE(preprocess_image(img, bad).ok());
  EXPECT_FALSE(preprocess_image(Image{}).ok());
}

TEST(ImagePreprocess, RescaleRoundsLikeEachReference) {
  // A 768×768 image needs no resize at B = 280, so the tensor is the rescaled input.
  Image img;
  img.width = img.height = 768;
  img.rgb.resize(size_t{768} * 768 * 3);
  for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<uint8_t>(i % 256);
  ImagePreprocessOptions tv, pil, video;
  pil.backend = ResampleBackend::kPillow;
  video.video_processor = true;
  auto a = preprocess_image(img, tv), b = preprocess_image(img, pil), c = preprocess_image(img, video);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  int differ = 0;
  for (int v = 0; v < 256; ++v) {
    // Pixel (y=0, x) of channel 0 holds the value (3x) % 256; find one holding v.
    const int x = (v * 171) % 256;  // 3·171 ≡ 1 (mod 256)
    ASSERT_EQ(img.at(0, x, 0), v);
    EXPECT_EQ(a->at(0, 0, x), static_cast<float>(v) * static_cast<float>(1.0 / 255.0));
    EXPECT_EQ(b->at(0, 0, x), static_cast<float>(v) / 255.0f);
    EXPECT_EQ(c->at(0, 0, x), static_cast<float>(v) / 255.0f);
    differ += a->at(0, 0, x) != b->at(0, 0, x);
  }
  EXPECT_GT(differ, 0);  // the two roundings really differ (by one ulp)
}

TEST(ImagePreprocess, BackendsDifferByAtMostOneLsbPerPass) {
  const Image img = test_pattern(517, 389);
  const Image a = resize_bicubic_antialiased(img, 288, 384, ResampleBackend::kTorchvision);
  const Image b = resize_bicubic_antialiased(img, 288, 384, ResampleBackend::kPillow);
  int max_diff = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) max_diff = std::max(max_diff, std::abs(a.rgb[i] - b.rgb[i]));
  EXPECT_LE(max_diff, 2);  // weight precision 22 vs ~15 bits: ±1 per pass, two passes
}

TEST(ImagePreprocess, PatchesAreRowMajorWithChannelFastest) {
  PixelTensor t;
  t.height = 48;
  t.width = 96;
  t.chw.resize(size_t{3} * 48 * 96);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 48; ++y)
      for (int x = 0; x < 96; ++x) t.chw[(static_cast<size_t>(c) * 48 + y) * 96 + x] = c * 100000.0f + y * 1000.0f + x;
  const std::vector<float> patches = image_to_patches(t);
  ASSERT_EQ(t.n_patches(), 3 * 6);
  ASSERT_EQ(patches.size(), size_t{18} * 768);
  // Patch 8 = row 1, column 2; value [py=5][px=7][c=2] is pixel (y = 16 + 5, x = 32 + 7) of channel 2.
  EXPECT_EQ(patches[8 * 768 + (5 * 16 + 7) * 3 + 2], 2 * 100000.0f + 21 * 1000.0f + 39);
  EXPECT_EQ(patches[0], 0.0f);
  EXPECT_EQ(patches[17 * 768 + 767], 2 * 100000.0f + 47 * 1000.0f + 95);
}

}  // namespace
}  // namespace pocket::media
