// Vision tower on tiny synthetic mmprojs: output shape and soft-token count, results independent of
// the thread count, and clear errors for bad sizes, huge grids and broken files. (Numerical agreement
// with the torch reference is the `vision` CTest label: tests/vision/.)
#include "media/vision_tower.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>

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

namespace pocket {
namespace {

// A tiny synthetic mmproj rewritten with one change: a metadata key replaced, or one tensor given
// another shape, or dropped.
std::string write_variant(const std::string& name, const std::function<void(GgufWriter&)>& edit_kv,
                          const std::string& tensor = "", std::vector<int64_t> new_ne = {}, bool drop = false) {
  const std::string base = write_tiny("e2b");
  auto src = GgufFile::open(base);
  EXPECT_TRUE(src.ok());
  GgufWriter w;
  for (const auto& [k, v] : src->metadata()) w.set(k, v);
  edit_kv(w);
  for (const auto& t : src->tensors()) {
    if (t.name == tensor && drop) continue;
    std::vector<int64_t> ne = t.name == tensor ? new_ne : t.ne;
    int64_t n = 1;
    for (int64_t x : ne) n *= x;
    w.add_tensor(t.name, t.type, ne, std::vector<uint8_t>(row_size(t.type, n), 0));
  }
  const std::string path = (std::filesystem::temp_directory_path() / ("pocket_vision_bad_" + name + ".gguf")).string();
  EXPECT_TRUE(w.write(path).ok());
  std::filesystem::remove(base);
  return path;
}

// Opening and loading must fail with a message containing `expect`.
void expect_load_error(const std::string& path, const std::string& expect) {
  auto m = MmprojFile::open(path);
  std::string msg;
  if (!m) {
    msg = m.error().message;
  } else {
    auto t = VisionTower::load(*m);
    ASSERT_FALSE(t.ok()) << path;
    msg = t.error().message;
  }
  EXPECT_NE(msg.find(expect), std::string::npos) << msg;
  std::filesystem::remove(path);
}

TEST(VisionTower, MalformedMmprojsFailWithOneClearError) {
  auto none = [](GgufWriter&) {};
  expect_load_error(write_variant("layers", [](GgufWriter& w) { w.set("clip.vision.block_count", GgufValue::u32(3)); }),
                    "missing tensor 'v.blk.2.ln1.weight'");
  expect_load_error(
      write_variant("huge", [](GgufWriter& w) { w.set("clip.vision.block_count", GgufValue::u32(1u << 30)); }),
      "out of range");
  expect_load_error(
      write_variant("heads0", [](GgufWriter& w) { w.set("clip.vision.attention.head_count", GgufValue::u32(0)); }),
      "out of range");
  expect_load_error(
      write_variant("heads5", [](GgufWriter& w) { w.set("clip.vision.attention.head_count", GgufValue::u32(5)); }),
      "does not equal embedding_length");
  expect_load_error(
      write_variant("typ", [](GgufWriter& w) { w.set("clip.vision.embedding_length", GgufValue::str("64")); }),
      "not a valid unsigned integer");
  expect_load_error(
      write_variant("eps",
                    [](GgufWriter& w) { w.set("clip.vision.attention.layer_norm_epsilon", GgufValue::f32(-1.0f)); }),
      "layer_norm_epsilon");
  expect_load_error(write_variant("qshape", none, "v.blk.1.attn_q.weight", {64, 32}),
                    "'v.blk.1.attn_q.weight' has shape {64, 32}, expected {64, 64}");
  expect_load_error(write_variant("pos", none, "v.position_embd.weight", {64, 512}),
                    "'v.position_embd.weight' has shape {64, 512}");
  expect_load_error(write_variant("proj", none, "mm.input_projection.weight", {64, 31}),
                    "'mm.input_projection.weight' has shape {64, 31}, expected {64, 32}");
  expect_load_error(write_variant("drop", none, "v.blk.0.ffn_down.weight", {}, /*drop=*/true),
                    "missing tensor 'v.blk.0.ffn_down.weight'");
  expect_load_error(write_variant("clip", none, "v.blk.0.attn_k.input_min", {2}),
                    "'v.blk.0.attn_k.input_min' has shape {2}, expected {1}");
}

}  // namespace
}  // namespace pocket
