// mmproj metadata and tensor lookup: the clip.* keys, projector types, and the error messages for
// files that are not mmproj files, missing tensors, wrong shapes and a projection width mismatch.
#include "media/mmproj.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

namespace pocket {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("pocket_mmproj_test_" + name)).string();
}

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> out(v.size() * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

GgufWriter vision_writer() {
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("clip"));
  w.set("general.type", GgufValue::str("mmproj"));
  w.set("clip.has_vision_encoder", GgufValue::boolean(true));
  w.set("clip.has_audio_encoder", GgufValue::boolean(false));
  w.set("clip.vision.projector_type", GgufValue::str("gemma4v"));
  w.set("clip.vision.embedding_length", GgufValue::u32(64));
  w.set("clip.vision.feed_forward_length", GgufValue::u32(96));
  w.set("clip.vision.block_count", GgufValue::u32(2));
  w.set("clip.vision.attention.head_count", GgufValue::u32(4));
  w.set("clip.vision.attention.layer_norm_epsilon", GgufValue::f32(1e-6f));
  w.set("clip.vision.projection_dim", GgufValue::u32(48));
  w.set("clip.vision.patch_size", GgufValue::u32(16));
  w.set("clip.vision.image_mean", GgufValue::f32_array({0, 0, 0}));
  w.set("clip.vision.image_std", GgufValue::f32_array({1, 1, 1}));
  w.add_tensor("v.blk.0.attn_q.weight", GgmlType::F32, {64, 64}, std::vector<uint8_t>(64 * 64 * 4, 0));
  w.add_tensor("v.blk.0.attn_q.input_max", GgmlType::F32, {1}, f32_bytes({2.5f}));
  return w;
}

TEST(VisionMmproj, ReadsVisionHparams) {
  const std::string path = temp_path("hparams.gguf");
  ASSERT_TRUE(vision_writer().write(path).ok());
  auto m = MmprojFile::open(path, 48);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->has_vision());
  EXPECT_FALSE(m->has_audio());
  const MmprojVisionHparams& h = m->vision();
  EXPECT_EQ(h.projector, VisionProjector::kGemma4V);
  EXPECT_EQ(h.n_embd, 64);
  EXPECT_EQ(h.n_ff, 96);
  EXPECT_EQ(h.n_layer, 2);
  EXPECT_EQ(h.n_head, 4);
  EXPECT_EQ(h.head_dim, 16);
  EXPECT_EQ(h.pooling, 3);
  EXPECT_EQ(h.projection_dim, 48);
  EXPECT_FLOAT_EQ(h.rope_theta, 100.0f);

  MmprojTensorLoader ld = m->loader();
  WeightMatrix q = ld.matrix("v.blk.0.attn_q.weight", 64, 64);
  EXPECT_FALSE(q.empty());
  ClipBounds b = load_clip_bounds(ld, "v.blk.0.attn_q");
  EXPECT_TRUE(b.active);
  EXPECT_FLOAT_EQ(b.input_max, 2.5f);
  EXPECT_TRUE(std::isinf(b.input_min) && b.input_min < 0);
  ClipBounds none = load_clip_bounds(ld, "v.blk.0.attn_k");
  EXPECT_FALSE(none.active);
  EXPECT_TRUE(ld.status().ok());
  std::filesystem::remove(path);
}

TEST(VisionMmproj, NamesMissingAndMisshapenTensors) {
  const std::string path = temp_path("tensors.gguf");
  ASSERT_TRUE(vision_writer().write(path).ok());
  auto m = MmprojFile::open(path);
  ASSERT_TRUE(m.ok()) << m.error().message;
  {
    MmprojTensorLoader ld = m->loader();
    (void)ld.matrix("v.blk.0.attn_k.weight", 64, 64);
    ASSERT_FALSE(ld.status().ok());
    EXPECT_NE(ld.status().message().find("missing tensor 'v.blk.0.attn_k.weight'"), std::string::npos);
  }
  {
    MmprojTensorLoader ld = m->loader();
    (void)ld.matrix("v.blk.0.attn_q.weight", 64, 32);
    ASSERT_FALSE(ld.status().ok());
    EXPECT_NE(ld.status().message().find("'v.blk.0.attn_q.weight' has shape {64, 64}, expected {64, 32}"),
              std::string::npos)
        << ld.status().message();
  }
  std::filesystem::remove(path);
}

TEST(VisionMmproj, RejectsProjectionWidthMismatch) {
  const std::string path = temp_path("mismatch.gguf");
  ASSERT_TRUE(vision_writer().write(path).ok());
  auto m = MmprojFile::open(path, 1536);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("projection_dim 48 does not match the text model's n_embd 1536"), std::string::npos)
      << m.error().message;
  std::filesystem::remove(path);
}

TEST(VisionMmproj, RejectsNonClipFilesAndUnknownProjectors) {
  const std::string path = temp_path("notclip.gguf");
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("gemma4"));
  ASSERT_TRUE(w.write(path).ok());
  auto m = MmprojFile::open(path);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("not an mmproj file"), std::string::npos) << m.error().message;

  GgufWriter w2 = vision_writer();
  w2.set("clip.vision.projector_type", GgufValue::str("gemma3"));
  ASSERT_TRUE(w2.write(path).ok());
  auto m2 = MmprojFile::open(path);
  ASSERT_FALSE(m2.ok());
  EXPECT_NE(m2.error().message.find("unsupported vision projector 'gemma3'"), std::string::npos) << m2.error().message;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace pocket
