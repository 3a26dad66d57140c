// Vision tower on tiny synthetic mmprojs: output shape and soft-token count, results independent of
// the thread count, and clear errors for bad sizes, huge grids and broken files. (Numerical agreement
// with the torch reference is the `vision` CTest label: tests/vision/.)
#include "media/vision_tower.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "synth/synthetic_mmproj.h"

namespace pocket {
namespace {

std::string write_tiny(const std::string& variant) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("pocket_vision_tower_test_" + variant + ".gguf")).string();
  synth::MmprojOptions o;
  o.variant = variant;
  o.n_embd_text = 32;
  EXPECT_TRUE(synth::write_synthetic_mmproj(o, path).ok());
  return path;
}

std::vector<float> ramp_pixels(int64_t h, int64_t w) {
  std::vector<float> px(static_cast<size_t>(3 * h * w));
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<float>((i * 37) % 256) / 255.0f;
  return px;
}

TEST(VisionTower, EncodesBothSizesToPooledGridRows) {
  for (const std::string variant : {"e2b", "31b"}) {
    const std::string path = write_tiny(variant);
    auto m = MmprojFile::open(path, 32);
    ASSERT_TRUE(m.ok()) << m.error().message;
    auto tower = VisionTower::load(*m);
    ASSERT_TRUE(tower.ok()) << tower.error().message;
    EXPECT_EQ(tower->n_soft_tokens(96, 144), 6);
    ThreadPool pool(2);
    auto e = tower->encode(ramp_pixels(96, 144), 96, 144, pool);
    ASSERT_TRUE(e.ok()) << e.error().message;
    EXPECT_EQ(e->n_soft, 6);
    EXPECT_EQ(e->n_embd, 32);
    ASSERT_EQ(e->rows.size(), 6u * 32u);
    for (float v : e->rows) ASSERT_TRUE(std::isfinite(v));
    ThreadPool one(1);
    auto e1 = tower->encode(ramp_pixels(96, 144), 96, 144, one);
    ASSERT_TRUE(e1.ok());
    for (size_t i = 0; i < e->rows.size(); ++i) EXPECT_NEAR(e->rows[i], e1->rows[i], 1e-5f) << i;
    std::filesystem::remove(path);
  }
}

TEST(VisionTower, RejectsBadSizesAndOversizedGrids) {
  const std::string path = write_tiny("e4b");
  auto m = MmprojFile::open(path);
  ASSERT_TRUE(m.ok());
  auto tower = VisionTower::load(*m);
  ASSERT_TRUE(tower.ok());
  ThreadPool pool(1);
  auto bad = tower->encode(ramp_pixels(50, 48), 50, 48, pool);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("multiple of 48"), std::string::npos) << bad.error().message;
  auto short_data = tower->encode(std::vector<float>(10), 48, 48, pool);
  ASSERT_FALSE(short_data.ok());
  // The tiny position table has 512 rows per axis; 8208 pixels are 513 patch columns.
  auto wide = tower->encode(ramp_pixels(48, 8208), 48, 8208, pool);
  ASSERT_FALSE(wide.ok());
  EXPECT_NE(wide.error().message.find("position table"), std::string::npos) << wide.error().message;
  std::filesystem::remove(path);
}

TEST(VisionTower, LoadNamesMissingTensor) {
  const std::string path = (std::filesystem::temp_directory_path() / "pocket_vision_tower_test_missing.gguf").string();
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("clip"));
  w.set("clip.has_vision_encoder", GgufValue::boolean(true));
  w.set("clip.vision.projector_type", GgufValue::str("gemma4v"));
  w.set("clip.vision.embedding_length", GgufValue::u32(64));
  w.set("clip.vision.feed_forward_length", GgufValue::u32(128));
  w.set("clip.vision.block_count", GgufValue::u32(1));
  w.set("clip.vision.attention.head_count", GgufValue::u32(4));
  w.set("clip.vision.projection_dim", GgufValue::u32(32));
  ASSERT_TRUE(w.write(path).ok());
  auto m = MmprojFile::open(path);
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto tower = VisionTower::load(*m);
  ASSERT_FALSE(tower.ok());
  EXPECT_NE(tower.error().message.find("missing tensor 'v.patch_embd.weight'"), std::string::npos)
      << tower.error().message;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace pocket
