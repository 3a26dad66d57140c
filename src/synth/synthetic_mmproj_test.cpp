// Synthetic mmproj plans: spec §5.2 names and ggml shapes for both tower sizes, the converter's type
// rules, metadata a loader accepts, and the audio hook's error while no audio tower is available.
#include "synth/synthetic_mmproj.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "media/mmproj.h"

namespace pocket::synth {
namespace {

std::map<std::string, PlannedTensor> by_name(const std::vector<PlannedTensor>& v) {
  std::map<std::string, PlannedTensor> m;
  for (const auto& t : v) m[t.name] = t;
  return m;
}

TEST(VisionSynthMmproj, FullE2BPlanHasSpecNamesAndShapes) {
  MmprojOptions o;
  o.variant = "e2b";
  o.full = true;
  o.type = "q8_0";
  auto plan = plan_mmproj_tensors(o);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  auto m = by_name(*plan);
  EXPECT_EQ(m.at("v.patch_embd.weight").ne, (std::vector<int64_t>{16, 16, 3, 768}));
  EXPECT_EQ(m.at("v.patch_embd.weight").type, GgmlType::F32);  // f16 only in f16 files
  EXPECT_EQ(m.at("v.position_embd.weight").ne, (std::vector<int64_t>{768, 10240, 2}));
  EXPECT_EQ(m.at("v.position_embd.weight").type, GgmlType::F32);
  EXPECT_EQ(m.at("v.blk.15.attn_q.weight").ne, (std::vector<int64_t>{768, 768}));
  EXPECT_EQ(m.at("v.blk.15.attn_q.weight").type, GgmlType::Q8_0);
  EXPECT_EQ(m.at("v.blk.0.attn_q_norm.weight").ne, (std::vector<int64_t>{64}));
  EXPECT_EQ(m.at("v.blk.0.ffn_gate.weight").ne, (std::vector<int64_t>{768, 3072}));
  EXPECT_EQ(m.at("v.blk.0.ffn_down.weight").ne, (std::vector<int64_t>{3072, 768}));
  EXPECT_EQ(m.at("v.blk.0.ffn_down.output_max").ne, (std::vector<int64_t>{1}));
  EXPECT_EQ(m.at("mm.input_projection.weight").ne, (std::vector<int64_t>{768, 1536}));
  EXPECT_EQ(m.count("v.blk.16.ln1.weight"), 0u);
  EXPECT_EQ(m.count("v.std_bias"), 0u);
}

TEST(VisionSynthMmproj, Full31BPlanStandardizesAndFallsBackOnFfnDown) {
  MmprojOptions o;
  o.variant = "31b";
  o.full = true;
  o.type = "q8_0";
  auto plan = plan_mmproj_tensors(o);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  auto m = by_name(*plan);
  EXPECT_EQ(m.at("v.blk.26.attn_k_norm.weight").ne, (std::vector<int64_t>{72}));
  EXPECT_EQ(m.at("v.blk.0.ffn_up.weight").ne, (std::vector<int64_t>{1152, 4304}));
  // 4304 is not a multiple of Q8_0's 32-value block: llama-quantize stores f16.
  EXPECT_EQ(m.at("v.blk.0.ffn_down.weight").type, GgmlType::F16);
  EXPECT_EQ(m.at("v.std_scale").ne, (std::vector<int64_t>{1152}));
  EXPECT_EQ(m.at("mm.input_projection.weight").ne, (std::vector<int64_t>{1152, 5376}));
  EXPECT_EQ(m.count("v.blk.0.attn_q.input_min"), 0u);  // no clipped linears on the large towers
}

TEST(VisionSynthMmproj, Full12BPlanIsTheUnifiedEmbedder) {
  MmprojOptions o;
  o.variant = "12b";
  o.full = true;
  auto plan = plan_mmproj_tensors(o);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  auto m = by_name(*plan);
  EXPECT_EQ(m.at("v.patch_embd.weight").ne, (std::vector<int64_t>{6912, 3840}));
  EXPECT_EQ(m.at("v.patch_norm.1.bias").ne, (std::vector<int64_t>{6912}));
  EXPECT_EQ(m.at("v.position_embd.weight").ne, (std::vector<int64_t>{3840, 1120, 2}));
  EXPECT_EQ(m.at("mm.input_projection.weight").ne, (std::vector<int64_t>{3840, 3840}));
  EXPECT_EQ(m.count("v.blk.0.ln1.weight"), 0u);
}

TEST(VisionSynthMmproj, TinyFileLoadsAsMmproj) {
  const std::string path = (std::filesystem::temp_directory_path() / "pocket_synth_mmproj_tiny.gguf").string();
  MmprojOptions o;
  o.variant = "26b-a4b";
  o.n_embd_text = 40;
  ASSERT_TRUE(write_synthetic_mmproj(o, path).ok());
  auto m = MmprojFile::open(path, 40);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->has_vision());
  EXPECT_FALSE(m->has_audio());
  EXPECT_EQ(m->vision().n_layer, 3);
  EXPECT_EQ(m->vision().head_dim, 24);
  std::filesystem::remove(path);
}

TEST(VisionSynthMmproj, RejectsAudioForLargeVariantsAndUnknownTypes) {
  MmprojOptions o;
  o.variant = "31b";
  o.audio = true;
  auto plan = plan_mmproj(o);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message.find("has no audio tower"), std::string::npos);
  MmprojOptions bad;
  bad.type = "q9_z";
  EXPECT_FALSE(plan_mmproj_tensors(bad).ok());
}

}  // namespace
}  // namespace pocket::synth
