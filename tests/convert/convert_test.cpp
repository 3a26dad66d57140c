// Unit tests of the HF converter and the quantization mixes: config.json forms, names, llama-quantize's
// per-tensor types (against the independent synth implementation and llama-quant.cpp's rules), and the
// metadata / tensor sequence of a converted checkpoint.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "convert/hf_convert.h"
#include "convert/hf_internal.h"
#include "convert/quant_mix.h"
#include "convert/quantize.h"
#include "format/gguf.h"
#include "mini_checkpoint.h"
#include "synth/synthetic_model.h"

namespace pocket::convert {
namespace {

using json = nlohmann::json;
namespace ct = convert_test;

TEST(HfConfig, FlatAndPerLayerFormsAgree) {
  json cfg = ct::MiniCheckpoint::make().config;
  cfg["text_config"]["num_global_key_value_heads"] = 2;
  auto flat = parse_hf_gemma4_config(cfg.dump(), "config.json");
  ASSERT_TRUE(flat.ok()) << flat.error().message;
  json& tc = cfg["text_config"];
  tc.erase("global_head_dim");
  tc.erase("num_global_key_value_heads");
  tc["per_layer_config"] = {{"2", {{"head_dim", 64}, {"num_key_value_heads", 2}}}};
  auto per = parse_hf_gemma4_config(cfg.dump(), "config.json");
  ASSERT_TRUE(per.ok()) << per.error().message;
  for (const auto* c : {&*flat, &*per}) {
    EXPECT_EQ(c->n_layer, 3);
    EXPECT_EQ(c->head_dim_full, 64);
    EXPECT_EQ(c->n_head_kv_full, 2);
    EXPECT_EQ(c->layer_n_kv(2), 2);
    EXPECT_EQ(c->layer_n_kv(1), 1);
    EXPECT_EQ(c->layer_n_ff(2), 192);
    EXPECT_TRUE(c->is_global(2));
    EXPECT_FALSE(c->owns_kv(2));
  }
  std::vector<float> rope(32, 1e30f);  // int(64 · 0.25 / 2) = 8 rotated pairs
  std::fill(rope.begin(), rope.begin() + 8, 1.0f);
  EXPECT_EQ(gemma4_rope_freqs(*flat), rope);
}

std::string config_error(const std::function<void(json&)>& edit) {
  json cfg = ct::MiniCheckpoint::make().config;
  edit(cfg);
  auto r = parse_hf_gemma4_config(cfg.dump(), "x/config.json");
  return r.ok() ? "(ok)" : r.error().message;
}

TEST(HfConfig, ClearErrors) {
  EXPECT_EQ(config_error([](json&) {}), "(ok)");
  EXPECT_EQ(config_error([](json& c) { c["text_config"].erase("head_dim"); }), "x/config.json: missing key head_dim");
  EXPECT_EQ(config_error([](json& c) { c["text_config"]["hidden_size"] = "big"; }),
            "x/config.json: key hidden_size is \"big\", expected a number");
  EXPECT_EQ(config_error([](json& c) { c["text_config"]["num_hidden_layers"] = 0; }),
            "x/config.json: key num_hidden_layers is 0, expected a positive integer");
  EXPECT_NE(config_error([](json& c) { c["text_config"]["num_hidden_layers"] = 4; }).find("layer_types has 3 entries"),
            std::string::npos);
  EXPECT_NE(config_error([](json& c) {
              c["model_type"] = "llama";
              c["architectures"] = {"LlamaForCausalLM"};
            }).find("architecture 'LlamaForCausalLM' is not supported"),
            std::string::npos);
  EXPECT_NE(config_error([](json& c) {
              c["model_type"] = "gemma3";
              c.erase("architectures");
            }).find("model_type 'gemma3' is not a Gemma 4 model"),
            std::string::npos);
  // An MTP drafter's config needs the target's hidden size, and every layer KV-shared.
  EXPECT_NE(config_error([](json& c) {
              c["architectures"] = {"Gemma4AssistantForCausalLM"};
            }).find("missing key backbone_hidden_size"),
            std::string::npos);
  EXPECT_NE(config_error([](json& c) {
              c["architectures"] = {"Gemma4AssistantForCausalLM"};
              c["backbone_hidden_size"] = 4096;
              c["text_config"]["num_kv_shared_layers"] = 1;
            }).find("an assistant shares all"),
            std::string::npos);
  EXPECT_NE(config_error([](json& c) { c["text_config"].erase("global_head_dim"); }).find("global_head_dim"),
            std::string::npos);
  EXPECT_NE(config_error([](json& c) {
              c["text_config"]["rope_parameters"]["full_attention"]["rope_type"] = "yarn";
            }).find("expected 'proportional'"),
            std::string::npos);
  EXPECT_NE(config_error([](json& c) { c["text_config"]["layer_types"][1] = "chunked"; }).find("chunked"),
            std::string::npos);
  EXPECT_NE(config_error([](json& c) {
              c["text_config"]["enable_moe_block"] = true;
              c["text_config"]["num_experts"] = 4;
            }).find("MoE config needs"),
            std::string::npos);
  EXPECT_EQ(parse_hf_gemma4_config("{nope", "c.json").error().message, "c.json: not valid JSON");
}

TEST(HfNames, MapsEveryGemma4Tensor) {
  EXPECT_EQ(gguf_name_for("model.language_model.embed_tokens.weight"), "token_embd.weight");
  EXPECT_EQ(gguf_name_for("model.embed_tokens.weight"), "token_embd.weight");
  EXPECT_EQ(gguf_name_for("lm_head.weight"), "output.weight");
  EXPECT_EQ(gguf_name_for("model.language_model.layers.7.experts.gate_up_proj"), "blk.7.ffn_gate_up_exps.weight");
  EXPECT_EQ(gguf_name_for("model.language_model.layers.7.router.per_expert_scale"), "blk.7.ffn_down_exps.scale");
  EXPECT_EQ(gguf_name_for("model.language_model.layers.0.layer_scalar"), "blk.0.layer_output_scale.weight");
  EXPECT_EQ(gguf_name_for("model.vision_tower.encoder.layers.0.mlp.fc1.weight"), "");
  EXPECT_EQ(gguf_name_for("model.embed_audio.embedding_projection.weight"), "");
  EXPECT_EQ(gguf_name_for("model.language_model.layers.0.self_attn.rotary_emb.inv_freq"), "");
  EXPECT_FALSE(gguf_name_for("model.language_model.layers.0.self_attn.qkv.weight").has_value());
  EXPECT_FALSE(gguf_name_for("transformer.h.0.weight").has_value());
  // The test's independent inverse map agrees on every name the synthetic models use.
  for (const auto& variant : synth::variant_names()) {
    synth::SynthOptions o;
    o.variant = variant;
    const auto plan = synth::plan_tensors(o);
    ASSERT_TRUE(plan.ok());
    for (const auto& t : plan.value()) {
      if (t.name == "rope_freqs.weight") continue;
      const std::string hf = ct::hf_name_for(t.name, "model.language_model.");
      EXPECT_EQ(gguf_name_for(hf), t.name) << hf;
    }
  }
}

// pocket synth's Q4_K_M plans for every variant at both sizes are what pocket quantize would choose for a
// BF16-converted model (synth shares quant_mix; this pins the router / PLE projection handling). The rules
// themselves are checked against llama.cpp by the byte-for-byte comparisons in e2e.sh.
TEST(QuantMix, Q4KMMatchesSynthForEveryVariantAndSize) {
  for (bool full : {false, true}) {
    for (const auto& variant : synth::variant_names()) {
      synth::SynthOptions o;
      o.variant = variant;
      o.full = full;
      o.type = "f32";
      auto base = synth::plan_tensors(o);
      o.type = "q4_k_m";
      auto want = synth::plan_tensors(o);
      ASSERT_TRUE(base.ok() && want.ok());
      auto shape = synth::model_shape(variant, full);
      std::vector<MixTensor> in;
      for (const auto& t : *base) {
        const bool bf16 = t.name.find("ffn_gate_inp.weight") != std::string::npos ||
                          t.name.find("per_layer_model_proj") != std::string::npos;
        in.push_back({t.name, t.ne, bf16 ? GgmlType::BF16 : t.type});
      }
      MixModelInfo info{shape->n_layer, shape->n_expert, shape->n_head, shape->n_head_kv_local};
      const auto got = choose_types(in, *find_quant_mix("q4_k_m"), info, false);
      for (size_t i = 0; i < in.size(); ++i) {
        EXPECT_EQ(got[i], (*want)[i].type) << variant << (full ? " full " : " tiny ") << in[i].name;
      }
    }
  }
}

TEST(QuantMix, LlamaQuantizeRules) {
  EXPECT_EQ(find_quant_mix("Q4_K")->name, "Q4_K_M");
  EXPECT_EQ(find_quant_mix("q5_k")->ftype, 17u);
  EXPECT_EQ(find_quant_mix("bf16")->ftype, 32u);
  EXPECT_FALSE(find_quant_mix("iq2_xxs").has_value());
  // 10 layers of attn_v / ffn_down, a tied embedding, 1-D and excluded tensors.
  std::vector<MixTensor> ts = {{"token_embd.weight", {256, 1000}, GgmlType::F32},
                               {"output_norm.weight", {256}, GgmlType::F32},
                               {"per_layer_model_proj.weight", {256, 640}, GgmlType::BF16}};
  for (int l = 0; l < 10; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    ts.push_back({b + "attn_v.weight", {256, 64}, GgmlType::F32});
    ts.push_back({b + "ffn_down.weight", {512, 256}, GgmlType::F32});
    ts.push_back({b + "attn_output.weight", {256, 256}, GgmlType::F32});
    ts.push_back({b + "ffn_gate_inp.weight", {256, 8}, GgmlType::F32});
    ts.push_back({b + "inp_gate.weight", {48, 256}, GgmlType::F32});  // 48: no K-quant or 32-block fits
  }
  const MixModelInfo info{10, 0, 8, 1};
  auto types = [&](const char* mix, bool pure = false) { return choose_types(ts, *find_quant_mix(mix), info, pure); };
  auto at = [&](const std::vector<GgmlType>& v, const std::string& name) {
    for (size_t i = 0; i < ts.size(); ++i) {
      if (ts[i].name == name) return v[i];
    }
    return GgmlType::Q8_K;
  };
  const auto q40 = types("q4_0");
  EXPECT_EQ(at(q40, "token_embd.weight"), GgmlType::Q6_K);  // even Q4_0 files keep the embedding at Q6_K
  EXPECT_EQ(at(q40, "output_norm.weight"), GgmlType::F32);
  EXPECT_EQ(at(q40, "per_layer_model_proj.weight"), GgmlType::BF16);
  EXPECT_EQ(at(q40, "blk.3.ffn_gate_inp.weight"), GgmlType::F32);
  EXPECT_EQ(at(q40, "blk.3.inp_gate.weight"), GgmlType::F16);
  EXPECT_EQ(at(q40, "blk.3.attn_v.weight"), GgmlType::Q4_0);
  EXPECT_EQ(at(types("q4_0", true), "token_embd.weight"), GgmlType::Q4_0);
  EXPECT_EQ(at(types("q8_0"), "token_embd.weight"), GgmlType::Q8_0);
  // use_more_bits(i, 10): i < 1, i >= 8, (i - 1) % 3 == 2 → layers 0, 3, 6, 8, 9.
  const auto km = types("q4_k_m");
  for (int l = 0; l < 10; ++l) {
    const bool more = l == 0 || l == 3 || l == 6 || l == 8 || l == 9;
    const std::string b = "blk." + std::to_string(l) + ".";
    EXPECT_EQ(at(km, b + "attn_v.weight"), more ? GgmlType::Q6_K : GgmlType::Q4_K) << l;
    EXPECT_EQ(at(km, b + "ffn_down.weight"), more ? GgmlType::Q6_K : GgmlType::Q4_K) << l;
    EXPECT_EQ(at(km, b + "attn_output.weight"), GgmlType::Q4_K);
  }
  const auto k3m = types("q3_k_m");
  EXPECT_EQ(at(k3m, "blk.0.attn_v.weight"), GgmlType::Q5_K);
  EXPECT_EQ(at(k3m, "blk.1.attn_v.weight"), GgmlType::Q5_K);
  EXPECT_EQ(at(k3m, "blk.2.attn_v.weight"), GgmlType::Q4_K);
  EXPECT_EQ(at(k3m, "blk.0.ffn_down.weight"), GgmlType::Q4_K);  // 0 < 10/16 is false
  EXPECT_EQ(at(k3m, "blk.5.attn_output.weight"), GgmlType::Q4_K);
  const auto q2k = types("q2_k");
  EXPECT_EQ(at(q2k, "blk.5.attn_v.weight"), GgmlType::Q4_K);  // n_head / n_head_kv = 8 >= 4
  EXPECT_EQ(at(q2k, "blk.5.ffn_down.weight"), GgmlType::Q3_K);
  EXPECT_EQ(at(q2k, "blk.5.inp_gate.weight"), GgmlType::F16);  // Q2_K → Q4_0 → F16 for 48-wide rows
  const auto k4s = types("q4_k_s");
  EXPECT_EQ(at(k4s, "blk.3.attn_v.weight"), GgmlType::Q5_K);
  EXPECT_EQ(at(k4s, "blk.4.attn_v.weight"), GgmlType::Q4_K);
  EXPECT_EQ(at(k4s, "blk.0.ffn_down.weight"), GgmlType::Q5_K);
  EXPECT_EQ(at(k4s, "blk.1.ffn_down.weight"), GgmlType::Q4_K);
  EXPECT_EQ(at(types("f16"), "blk.1.ffn_down.weight"), GgmlType::F16);
  EXPECT_EQ(at(types("f16"), "token_embd.weight"), GgmlType::F16);
  // Order: non-block tensors first, then by block number (not "blk.10" before "blk.2").
  EXPECT_TRUE(quantize_order_less("token_embd.weight", "blk.0.attn_v.weight"));
  EXPECT_TRUE(quantize_order_less("blk.2.ffn_up.weight", "blk.10.attn_k.weight"));
  EXPECT_TRUE(quantize_order_less("blk.2.attn_k.weight", "blk.2.attn_q.weight"));
}

TEST(Convert, MiniCheckpointMetadataAndTensorOrder) {
  const std::string dir = ct::test_dir("gemma-4-mini-it");
  ct::MiniCheckpoint m = ct::MiniCheckpoint::make();
  m.write(dir, 2);
  const std::string out = dir + ".gguf";
  auto r = convert_hf_checkpoint(dir, out, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->type_name, "BF16");
  EXPECT_EQ(r->n_skipped, 1u);
  auto f = GgufFile::open(out);
  ASSERT_TRUE(f.ok()) << f.error().message;
  std::vector<std::string> keys;
  for (const auto& [k, v] : f->metadata()) keys.push_back(k);
  const std::vector<std::string> want = {"general.architecture",
                                         "general.type",
                                         "general.sampling.top_k",
                                         "general.sampling.top_p",
                                         "general.sampling.temp",
                                         "general.name",
                                         "general.finetune",
                                         "general.basename",
                                         "general.size_label",
                                         "gemma4.block_count",
                                         "gemma4.context_length",
                                         "gemma4.embedding_length",
                                         "gemma4.feed_forward_length",
                                         "gemma4.attention.head_count",
                                         "gemma4.attention.head_count_kv",
                                         "gemma4.rope.freq_base",
                                         "gemma4.rope.freq_base_swa",
                                         "gemma4.attention.layer_norm_rms_epsilon",
                                         "gemma4.attention.key_length",
                                         "gemma4.attention.value_length",
                                         "general.file_type",
                                         "gemma4.final_logit_softcapping",
                                         "gemma4.attention.sliding_window",
                                         "gemma4.attention.shared_kv_layers",
                                         "gemma4.embedding_length_per_layer_input",
                                         "gemma4.attention.sliding_window_pattern",
                                         "gemma4.attention.key_length_swa",
                                         "gemma4.attention.value_length_swa",
                                         "gemma4.rope.dimension_count",
                                         "gemma4.rope.dimension_count_swa",
                                         "general.quantization_version",
                                         "tokenizer.ggml.model",
                                         "tokenizer.ggml.tokens",
                                         "tokenizer.ggml.scores",
                                         "tokenizer.ggml.token_type",
                                         "tokenizer.ggml.merges",
                                         "tokenizer.ggml.bos_token_id",
                                         "tokenizer.ggml.eos_token_id",
                                         "tokenizer.ggml.unknown_token_id",
                                         "tokenizer.ggml.padding_token_id",
                                         "tokenizer.ggml.mask_token_id",
                                         "tokenizer.ggml.add_bos_token",
                                         "tokenizer.ggml.add_sep_token",
                                         "tokenizer.ggml.add_eos_token",
                                         "tokenizer.chat_template",
                                         "tokenizer.ggml.add_space_prefix"};
  EXPECT_EQ(keys, want);
  // gguf-py's heuristics on the directory name "pocket_convert_test_gemma-4-mini-it".
  EXPECT_EQ(f->get_string("general.name").value(), "Pocket_Convert_Test_Gemma 4 Mini It");
  EXPECT_EQ(f->get_string("general.basename").value(), "pocket_convert_test_gemma-4");
  EXPECT_EQ(f->get_string("general.size_label").value(), "mini");
  EXPECT_EQ(f->get_string("general.finetune").value(), "it");
  EXPECT_EQ(f->get_uint("general.file_type").value(), 32u);
  EXPECT_EQ(f->get_uint("gemma4.attention.key_length").value(), 64u);
  EXPECT_EQ(f->get_uint("gemma4.attention.key_length_swa").value(), 32u);
  EXPECT_EQ(f->get_uint("gemma4.rope.dimension_count_swa").value(), 32u);
  EXPECT_EQ(f->get_uint("tokenizer.ggml.mask_token_id").value(), 4u);
  EXPECT_EQ(f->get_uint("general.sampling.top_k").value(), 64u);
  EXPECT_EQ(f->find("gemma4.feed_forward_length")->elem_type, GgufValueType::INT32);
  EXPECT_EQ(*f->find("gemma4.feed_forward_length")->as_int_array(), (std::vector<int64_t>{96, 96, 192}));
  EXPECT_EQ(*f->find("tokenizer.ggml.merges")->as_string_array(), (std::vector<std::string>{"t o", "to k"}));
  EXPECT_EQ(f->get_string("tokenizer.chat_template").value(), "{{ bos_token }}{{ messages }}");
  // Tensors: rope_freqs, then the checkpoint's tensors by shard and name (shards alternate here).
  std::vector<std::string> hf_order;
  for (int s = 0; s < 2; ++s) {
    std::vector<std::string> part;
    for (size_t i = static_cast<size_t>(s); i < m.tensors.size(); i += 2) {
      if (m.tensors[i].name.find("vision") == std::string::npos) part.push_back(m.tensors[i].name);
    }
    std::sort(part.begin(), part.end());
    hf_order.insert(hf_order.end(), part.begin(), part.end());
  }
  ASSERT_EQ(f->tensors().size(), hf_order.size() + 1);
  EXPECT_EQ(f->tensors()[0].name, "rope_freqs.weight");
  for (size_t i = 0; i < hf_order.size(); ++i) {
    const auto& t = f->tensors()[i + 1];
    EXPECT_EQ(ct::hf_name_for(t.name, "model.language_model."), hf_order[i]);
    const bool f32 = t.ne.size() == 1 || t.name.find("_norm.weight") != std::string::npos;
    EXPECT_EQ(t.type, f32 ? GgmlType::F32 : GgmlType::BF16) << t.name;
  }
  std::filesystem::remove(out);
}

TEST(Convert, GgufPyNameHeuristics) {
  auto c = detail::model_id_components("google/gemma-4-26B-A4B-it", 25'000'000'000);
  EXPECT_EQ(c.name, "gemma-4-26B-A4B-it");
  EXPECT_EQ(c.org, "google");
  EXPECT_EQ(c.basename, "gemma-4");
  EXPECT_EQ(c.size_label, "26B-A4B");
  EXPECT_EQ(c.finetune, "it");
  EXPECT_FALSE(c.version.has_value());                           // "4" stays in the basename
  c = detail::model_id_components("gemma-4-31B-it", 9'000'000);  // 31B is far from 9M: a context length
  EXPECT_EQ(c.finetune, "31b-it");
  EXPECT_FALSE(c.size_label.has_value());
  EXPECT_EQ(detail::id_to_title("gemma-4-e2b-it"), "Gemma 4 E2B It");
  EXPECT_EQ(detail::id_to_title("my-model-v1.2"), "My Model v1.2");
  EXPECT_EQ(detail::size_label(9'300'000, 9'300'000, 0, 0), "9.3M");
  EXPECT_EQ(detail::size_label(25'200'000'000, 1'000'000'000, 30'000'000, 128), "128x1.0B");
}

TEST(Convert, Q8_0FallsBackToF16AndMixesReorder) {
  const std::string dir = ct::test_dir("q8");
  ct::MiniCheckpoint::make().write(dir);
  ConvertOptions o;
  o.type = "q8_0";
  auto r = prepare_hf_conversion(dir, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (const auto& t : r->plan.tensors) {
    if (t.name == "blk.0.proj.weight") {
      EXPECT_EQ(t.type, GgmlType::F16);  // rows of 16
    }
    if (t.name == "blk.0.attn_q.weight") {
      EXPECT_EQ(t.type, GgmlType::Q8_0);
    }
    if (t.name == "per_layer_model_proj.weight") {
      EXPECT_EQ(t.type, GgmlType::Q8_0);
    }
  }
  o.type = "q4_k_m";
  r = prepare_hf_conversion(dir, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->type_name, "Q4_K_M");
  EXPECT_EQ(r->plan.tensors.front().name, "output_norm.weight");  // llama-quantize's order
  EXPECT_EQ(r->plan.tensors[4].name, "rope_freqs.weight");
  EXPECT_EQ(r->plan.tensors[5].name, "token_embd.weight");
  EXPECT_EQ(r->plan.tensors[6].name, "blk.0.attn_k.weight");
  EXPECT_EQ(r->plan.kv.back().first, "general.file_type");
  EXPECT_EQ(r->plan.kv[r->plan.kv.size() - 2].first, "general.quantization_version");
  for (const auto& t : r->plan.tensors) {
    if (t.name == "per_layer_model_proj.weight") {
      EXPECT_EQ(t.type, GgmlType::BF16);  // kept as converted
    }
    if (t.name == "token_embd.weight") {
      EXPECT_EQ(t.type, GgmlType::Q8_0);  // 64-wide rows: no Q6_K
    }
  }
}

}  // namespace
}  // namespace pocket::convert
