// Synthetic audio mmproj (synth/synthetic_mmproj_audio.cpp): spec §5.3 names, shapes, types; a tiny file that
// the audio tower loads and runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "media/audio_tower.h"
#include "media/mmproj.h"
#include "synth/synthetic_mmproj.h"

namespace pocket::synth {
namespace {

TEST(AudioSynthMmproj, FullPlanHasSpecNamesShapesAndTypes) {
  MmprojOptions o;
  o.variant = "e4b";
  o.full = true;
  o.audio = true;
  o.vision = false;
  o.type = "f16";
  auto tensors = plan_mmproj_tensors(o);
  ASSERT_TRUE(tensors.ok()) << tensors.error().message;
  std::map<std::string, PlannedTensor> by_name;
  for (const auto& t : *tensors) by_name[t.name] = t;
  auto expect = [&](const std::string& name, std::vector<int64_t> ne, GgmlType type) {
    auto it = by_name.find(name);
    ASSERT_NE(it, by_name.end()) << name;
    EXPECT_EQ(it->second.ne, ne) << name;
    EXPECT_EQ(it->second.type, type) << name;
  };
  expect("a.conv1d.0.weight", {3, 3, 1, 128}, GgmlType::F32);
  expect("a.conv1d.1.weight", {3, 3, 128, 32}, GgmlType::F32);
  expect("a.conv1d.1.norm.weight", {32}, GgmlType::F32);
  expect("a.input_projection.weight", {1024, 1024}, GgmlType::F16);
  expect("a.blk.11.ffn_up.weight", {1024, 4096}, GgmlType::F16);
  expect("a.blk.11.ffn_down_1.weight", {4096, 1024}, GgmlType::F16);
  expect("a.blk.0.attn_k_rel.weight", {1024, 1024}, GgmlType::F16);
  expect("a.blk.0.per_dim_scale.weight", {128}, GgmlType::F32);
  expect("a.blk.0.conv_dw.weight", {5, 1024}, GgmlType::F32);
  expect("a.blk.0.conv_pw1.weight", {1024, 2048}, GgmlType::F16);
  expect("a.blk.0.conv_norm.weight", {1024}, GgmlType::F32);
  expect("a.blk.0.norm_conv.weight", {1024}, GgmlType::F32);
  expect("a.blk.0.attn_q.input_min", {1}, GgmlType::F32);
  expect("a.blk.0.ln2.weight", {1024}, GgmlType::F32);
  expect("a.pre_encode.out.weight", {1024, 1536}, GgmlType::F16);
  expect("a.pre_encode.out.bias", {1536}, GgmlType::F32);
  expect("mm.a.input_projection.weight", {1536, 2560}, GgmlType::F16);
  EXPECT_EQ(by_name.count("a.blk.12.ln2.weight"), 0u);
  EXPECT_EQ(by_name.count("a.input_projection.input_min"), 0u);  // HF: a plain nn.Linear
  EXPECT_EQ(by_name.count("a.blk.0.attn_k_rel.input_min"), 0u);
}

TEST(AudioSynthMmproj, Unified12bHasOnlyTheProjection) {
  MmprojOptions o;
  o.variant = "12b";
  o.full = true;
  o.vision = false;
  o.audio = true;
  auto plan = plan_mmproj(o);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_EQ(plan->tensors.size(), 1u);
  EXPECT_EQ(plan->tensors[0].recipe.name, "mm.a.input_projection.weight");
  EXPECT_EQ(plan->tensors[0].recipe.ne, (std::vector<int64_t>{640, 3840}));
  bool ua = false;
  for (const auto& [k, v] : plan->metadata) ua |= k == "clip.audio.projector_type" && *v.as_string() == "gemma4ua";
  EXPECT_TRUE(ua);
}

TEST(AudioSynthMmproj, TinyFileLoadsAndEncodes) {
  const std::string path = (std::filesystem::temp_directory_path() / "pocket_synth_audio_tiny.gguf").string();
  MmprojOptions o;
  o.variant = "e2b";
  o.audio = true;
  o.n_embd_text = 48;
  ASSERT_TRUE(write_synthetic_mmproj(o, path).ok());
  auto m = MmprojFile::open(path, 48);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->has_vision());
  ASSERT_TRUE(m->has_audio());
  EXPECT_EQ(m->audio().projector, AudioProjector::kGemma4A);
  auto tower = AudioTower::load(m->gguf());
  ASSERT_TRUE(tower.ok()) << tower.error().message;
  EXPECT_EQ(tower->config().n_layer, 2);
  EXPECT_EQ(tower->n_text(), 48);
  std::vector<float> feats(60 * 128);
  for (size_t i = 0; i < feats.size(); ++i) feats[i] = -3.0f + 2.0f * std::sin(0.013f * static_cast<float>(i));
  ThreadPool pool(1);
  auto out = tower->encode(feats, 60, pool);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->size(), static_cast<size_t>(15 * 48));
  EXPECT_TRUE(std::all_of(out->begin(), out->end(), [](float v) { return std::isfinite(v) && std::fabs(v) < 100; }));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace pocket::synth
