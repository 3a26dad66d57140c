// Unit tests of the mmproj converter's layout: HF → GGUF names and transforms against the spec tables
// (gemma4-multimodal.md §5.2, §5.3, appendix A; checked with gguf-py's tensor map), and config.json
// reading (the converter's overrides, defaults and errors).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "convert/hf_mmproj_internal.h"

namespace pocket::convert::detail {
namespace {

using json = nlohmann::json;

TEST(MmprojNames, SpecTables) {
  const std::vector<std::pair<const char*, const char*>> vision = {
      {"model.vision_tower.patch_embedder.input_proj.weight", "v.patch_embd.weight"},
      {"model.vision_tower.patch_embedder.position_embedding_table", "v.position_embd.weight"},
      {"model.vision_tower.encoder.layers.3.input_layernorm.weight", "v.blk.3.ln1.weight"},
      {"model.vision_tower.encoder.layers.3.self_attn.q_proj.linear.weight", "v.blk.3.attn_q.weight"},
      {"model.vision_tower.encoder.layers.3.self_attn.q_proj.input_min", "v.blk.3.attn_q.input_min"},
      {"model.vision_tower.encoder.layers.3.self_attn.o_proj.linear.weight", "v.blk.3.attn_out.weight"},
      {"model.vision_tower.encoder.layers.3.self_attn.o_proj.output_max", "v.blk.3.attn_out.output_max"},
      {"model.vision_tower.encoder.layers.3.self_attn.k_norm.weight", "v.blk.3.attn_k_norm.weight"},
      {"model.vision_tower.encoder.layers.3.post_attention_layernorm.weight", "v.blk.3.attn_post_norm.weight"},
      {"model.vision_tower.encoder.layers.3.pre_feedforward_layernorm.weight", "v.blk.3.ln2.weight"},
      {"model.vision_tower.encoder.layers.3.post_feedforward_layernorm.weight", "v.blk.3.ffn_post_norm.weight"},
      {"model.vision_tower.encoder.layers.3.mlp.down_proj.linear.weight", "v.blk.3.ffn_down.weight"},
      {"model.vision_tower.encoder.layers.3.layer_scalar", "v.blk.3.out_scale.weight"},
      {"model.vision_tower.std_bias", "v.std_bias"},
      {"model.embed_vision.embedding_projection.weight", "mm.input_projection.weight"},
  };
  const std::vector<std::pair<const char*, const char*>> audio = {
      {"model.audio_tower.subsample_conv_projection.layer0.conv.weight", "a.conv1d.0.weight"},
      {"model.audio_tower.subsample_conv_projection.layer1.norm.weight", "a.conv1d.1.norm.weight"},
      {"model.audio_tower.subsample_conv_projection.input_proj_linear.weight", "a.input_projection.weight"},
      {"model.audio_tower.layers.11.feed_forward1.ffw_layer_1.linear.weight", "a.blk.11.ffn_up.weight"},
      {"model.audio_tower.layers.11.feed_forward2.ffw_layer_2.input_max", "a.blk.11.ffn_down_1.input_max"},
      {"model.audio_tower.layers.11.self_attn.post.linear.weight", "a.blk.11.attn_out.weight"},
      {"model.audio_tower.layers.11.self_attn.relative_k_proj.weight", "a.blk.11.attn_k_rel.weight"},
      {"model.audio_tower.layers.11.self_attn.per_dim_scale", "a.blk.11.per_dim_scale.weight"},
      {"model.audio_tower.layers.11.lconv1d.pre_layer_norm.weight", "a.blk.11.conv_norm.weight"},
      {"model.audio_tower.layers.11.lconv1d.conv_norm.weight", "a.blk.11.norm_conv.weight"},
      {"model.audio_tower.layers.11.lconv1d.depthwise_conv1d.weight", "a.blk.11.conv_dw.weight"},
      {"model.audio_tower.layers.11.norm_out.weight", "a.blk.11.ln2.weight"},
      {"model.audio_tower.output_proj.bias", "a.pre_encode.out.bias"},
      {"model.embed_audio.embedding_projection.weight", "mm.a.input_projection.weight"},
  };
  for (const auto& [hf, gguf] : vision) {
    auto n = mmproj_name_for(hf, false);
    ASSERT_TRUE(n) << hf;
    EXPECT_EQ(n->gguf, gguf) << hf;
    EXPECT_FALSE(n->audio) << hf;
  }
  for (const auto& [hf, gguf] : audio) {
    auto n = mmproj_name_for(hf, false);
    ASSERT_TRUE(n) << hf;
    EXPECT_EQ(n->gguf, gguf) << hf;
    EXPECT_TRUE(n->audio) << hf;
  }
  EXPECT_EQ(mmproj_name_for(vision[0].first, false)->transform, MmprojTransform::kPatchToConv);
  EXPECT_EQ(mmproj_name_for(audio[7].first, false)->transform, MmprojTransform::kSoftplus);
  EXPECT_EQ(mmproj_name_for(audio[10].first, false)->transform, MmprojTransform::kSqueezeMiddle);
}

TEST(MmprojNames, UnifiedEmbedders) {
  const struct {
    const char *hf, *gguf;
    MmprojTransform tr;
  } cases[] = {
      {"model.vision_embedder.patch_ln1.weight", "v.patch_norm.1.weight", MmprojTransform::kUnifiedCellVec},
      {"model.vision_embedder.patch_ln1.bias", "v.patch_norm.1.bias", MmprojTransform::kUnifiedCellVec},
      {"model.vision_embedder.patch_dense.weight", "v.patch_embd.weight", MmprojTransform::kUnifiedCellCols},
      {"model.vision_embedder.patch_dense.bias", "v.patch_embd.bias", MmprojTransform::kNone},
      {"model.vision_embedder.patch_ln2.weight", "v.patch_norm.2.weight", MmprojTransform::kNone},
      {"model.vision_embedder.pos_embedding", "v.position_embd.weight", MmprojTransform::kUnifiedPosTable},
      {"model.vision_embedder.pos_norm.bias", "v.patch_norm.3.bias", MmprojTransform::kNone},
  };
  for (const auto& c : cases) {
    auto n = mmproj_name_for(c.hf, true);
    ASSERT_TRUE(n) << c.hf;
    EXPECT_EQ(n->gguf, c.gguf) << c.hf;
    EXPECT_EQ(n->transform, c.tr) << c.hf;
  }
}

TEST(MmprojNames, NotTowerTensors) {
  for (const char* hf :
       {"model.vision_tower.encoder.layers.0.mlp.fc1.weight", "model.audio_tower.layers.0.self_attn.per_dim_key_scale",
        "model.vision_tower.foo", "model.audio_tower.subsample_conv_projection.layer0.convx.weight"}) {
    EXPECT_FALSE(mmproj_name_for(hf, false)) << hf;
  }
}

json e2b_config() {
  return {{"architectures", {"Gemma4ForConditionalGeneration"}},
          {"text_config", {{"hidden_size", 1536}}},
          {"vision_config", {{"hidden_size", 768}, {"num_hidden_layers", 16}, {"num_attention_heads", 12}}},
          {"audio_config", {{"hidden_size", 1024}, {"num_hidden_layers", 12}}}};
}

TEST(MmprojConfig, ConverterOverridesAndDefaults) {
  auto c = parse_tower_config(e2b_config(), "config.json");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->n_embd_text, 1536);
  EXPECT_EQ(c->v_ff, 3072);  // transformers' default
  EXPECT_EQ(c->v_head_dim, 64);
  EXPECT_EQ(c->v_pos_table, 10240);
  EXPECT_EQ(c->vision_hparams["image_size"], 224);
  ASSERT_TRUE(c->audio);
  EXPECT_EQ(c->a_ff, 4096);  // 4 × hidden_size
  EXPECT_EQ(c->a_mel, 128);
  EXPECT_EQ(c->a_c0, 128);
  EXPECT_EQ(c->a_c1, 32);
  // Vision only (26B/31B): no audio_config or an empty one.
  json v = e2b_config();
  v["audio_config"] = json::object();
  c = parse_tower_config(v, "config.json");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->audio);
  // 12B: the embedder width from mm_embed_dim, zero layers.
  json u = {{"architectures", {"Gemma4UnifiedForConditionalGeneration"}},
            {"text_config", {{"hidden_size", 3840}}},
            {"vision_config", {{"mm_embed_dim", 3840}, {"patch_size", 16}, {"pooling_kernel_size", 3}}},
            {"audio_config", {{"audio_embed_dim", 640}}}};
  c = parse_tower_config(u, "config.json");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->v_embd, 3840);
  EXPECT_EQ(c->v_layers, 0);
  EXPECT_EQ(c->v_unified_cell, 48);
  EXPECT_EQ(c->a_embd, 640);
  EXPECT_EQ(c->a_ff, 0);
}

TEST(MmprojConfig, ErrorsNameFileAndKey) {
  json j = e2b_config();
  j["architectures"] = {"Gemma4ForCausalLM"};
  auto c = parse_tower_config(j, "d/config.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("d/config.json: architecture 'Gemma4ForCausalLM'"), std::string::npos);
  j = e2b_config();
  j.erase("vision_config");
  EXPECT_NE(parse_tower_config(j, "d/config.json").error().message.find("no vision_config"), std::string::npos);
  j = e2b_config();
  j["vision_config"]["intermediate_size"] = "big";
  EXPECT_NE(parse_tower_config(j, "d/config.json").error().message.find("vision_config.intermediate_size"),
            std::string::npos);
  j = e2b_config();
  j["audio_config"]["subsampling_conv_channels"] = {128};
  EXPECT_NE(parse_tower_config(j, "d/config.json").error().message.find("subsampling_conv_channels"),
            std::string::npos);
  j = e2b_config();
  j["architectures"] = {"Gemma4UnifiedForConditionalGeneration"};
  EXPECT_NE(parse_tower_config(j, "d/config.json").error().message.find("mm_embed_dim"), std::string::npos);
}

TEST(MmprojLayout, TowerTensorsOfTheRealE2B) {
  auto c = parse_tower_config(e2b_config(), "config.json");
  ASSERT_TRUE(c.ok());
  size_t required = 0;
  for (const auto& t : tower_tensors(*c)) {
    required += t.required;
    if (t.gguf == "v.patch_embd.weight") {
      EXPECT_EQ(t.shape, (std::vector<int64_t>{768, 768}));
    }
    if (t.gguf == "a.input_projection.weight") {
      EXPECT_EQ(t.shape, (std::vector<int64_t>{1024, 1024}));
    }
    if (t.gguf == "a.blk.0.per_dim_scale.weight") {
      EXPECT_EQ(t.shape, (std::vector<int64_t>{128}));
    }
    if (t.gguf == "mm.a.input_projection.weight") {
      EXPECT_EQ(t.shape, (std::vector<int64_t>{1536, 1536}));
    }
  }
  // Vision: patch + position + 16 × 13 + projection; audio: 5 + 12 × 22 + 3.
  EXPECT_EQ(required, 2 + 16 * 13 + 1 + 5 + 12 * 22 + 3);
}

}  // namespace
}  // namespace pocket::convert::detail
