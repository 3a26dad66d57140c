// Synthetic models: every tiny variant is written and read back; keys, tensor names, shapes and types
// must be what llama.cpp's converter would produce (spec §8.2/§8.3).
#include "synth/synthetic_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "format/gguf.h"
#include "tensor/quants.h"

namespace pocket::synth {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("pocket_synth_test_" + name + ".gguf")).string();
}

struct Written {
  std::string path;
  GgufFile file;
};

Written write_and_open(const SynthOptions& opts) {
  const std::string path = temp_path(opts.variant + "_" + opts.type + (opts.split_experts ? "_split" : "") + "_" +
                                     std::to_string(opts.seed));
  Status st = write_synthetic_model(opts, path);
  EXPECT_TRUE(st.ok()) << st.message();
  auto f = GgufFile::open(path);
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
  return {path, std::move(f.value())};
}

uint64_t get_u(const GgufFile& f, const std::string& key) {
  auto v = f.get_uint(key);
  EXPECT_TRUE(v.ok()) << key;
  return v.ok() ? *v : 0;
}

std::vector<float> dequant(const GgufTensorInfo& t) {
  std::vector<float> out(t.n_elements());
  dequantize_row(t.type, t.data, out.data(), t.n_elements());
  return out;
}

void check_tensor(const GgufFile& f, const std::string& name, std::vector<int64_t> ne) {
  const GgufTensorInfo* t = f.find_tensor(name);
  ASSERT_NE(t, nullptr) << name;
  EXPECT_EQ(t->ne, ne) << name;
}

class TinyVariant : public ::testing::TestWithParam<std::string> {};

TEST_P(TinyVariant, WritesConverterLayout) {
  SynthOptions opts;
  opts.variant = GetParam();
  opts.type = "f16";
  auto w = write_and_open(opts);
  const GgufFile& f = w.file;
  auto shape = model_shape(opts.variant, false);
  ASSERT_TRUE(shape.ok());
  const ModelShape& s = *shape;

  EXPECT_EQ(f.get_string("general.architecture").value(), "gemma4");
  EXPECT_EQ(get_u(f, "gemma4.block_count"), static_cast<uint64_t>(s.n_layer));
  EXPECT_EQ(get_u(f, "gemma4.embedding_length"), 256u);
  EXPECT_EQ(get_u(f, "gemma4.attention.key_length"), 128u);
  EXPECT_EQ(get_u(f, "gemma4.attention.value_length"), 128u);
  EXPECT_EQ(get_u(f, "gemma4.attention.key_length_swa"), 64u);
  EXPECT_EQ(get_u(f, "gemma4.attention.value_length_swa"), 64u);
  EXPECT_EQ(get_u(f, "gemma4.rope.dimension_count"), 128u);
  EXPECT_EQ(get_u(f, "gemma4.rope.dimension_count_swa"), 64u);
  EXPECT_EQ(get_u(f, "gemma4.attention.sliding_window"), 16u);
  EXPECT_EQ(get_u(f, "gemma4.attention.shared_kv_layers"), static_cast<uint64_t>(s.shared_kv_layers));
  EXPECT_EQ(get_u(f, "gemma4.embedding_length_per_layer_input"), static_cast<uint64_t>(s.ple));
  EXPECT_EQ(get_u(f, "general.file_type"), 1u);
  EXPECT_FLOAT_EQ(static_cast<float>(f.get_float("gemma4.rope.freq_base").value()), 1e6f);
  EXPECT_FLOAT_EQ(static_cast<float>(f.get_float("gemma4.rope.freq_base_swa").value()), 1e4f);
  EXPECT_FLOAT_EQ(static_cast<float>(f.get_float("gemma4.final_logit_softcapping").value()), 30.0f);
  EXPECT_FLOAT_EQ(static_cast<float>(f.get_float("gemma4.attention.layer_norm_rms_epsilon").value()), 1e-6f);

  // Layer pattern: true = local (SWA).
  const GgufValue* pat = f.find("gemma4.attention.sliding_window_pattern");
  ASSERT_NE(pat, nullptr);
  auto swa = pat->as_bool_array();
  ASSERT_TRUE(swa.has_value());
  ASSERT_EQ(swa->size(), static_cast<size_t>(s.n_layer));
  for (int l = 0; l < s.n_layer; ++l) EXPECT_EQ((*swa)[l], !s.is_global(l)) << l;
  EXPECT_FALSE(swa->back());

  // head_count_kv: array for the k_eq_v models, scalar for E2B/E4B.
  const GgufValue* kv = f.find("gemma4.attention.head_count_kv");
  ASSERT_NE(kv, nullptr);
  EXPECT_EQ(kv->is_array(), s.head_count_kv_array);
  const GgufValue* ff = f.find("gemma4.feed_forward_length");
  ASSERT_NE(ff, nullptr);
  EXPECT_EQ(ff->is_array(), opts.variant == "e2b");

  // Tokenizer.
  EXPECT_EQ(f.get_string("tokenizer.ggml.model").value(), "gemma4");
  const auto* tokens = f.find("tokenizer.ggml.tokens")->as_string_array();
  ASSERT_NE(tokens, nullptr);
  ASSERT_EQ(tokens->size(), 1024u);
  EXPECT_EQ((*tokens)[0], "<pad>");
  EXPECT_EQ((*tokens)[1], "<eos>");
  EXPECT_EQ((*tokens)[2], "<bos>");
  EXPECT_EQ((*tokens)[3], "<unk>");
  EXPECT_EQ((*tokens)[4], "<mask>");
  EXPECT_EQ((*tokens)[105], "<|turn>");
  EXPECT_EQ((*tokens)[106], "<turn|>");
  EXPECT_EQ(std::set<std::string>(tokens->begin(), tokens->end()).size(), tokens->size());
  EXPECT_EQ(f.find("tokenizer.ggml.token_type")->array_size(), 1024u);
  EXPECT_EQ(f.find("tokenizer.ggml.scores")->array_size(), 1024u);
  EXPECT_GT(f.find("tokenizer.ggml.merges")->array_size(), 0u);
  EXPECT_EQ(get_u(f, "tokenizer.ggml.bos_token_id"), 2u);
  EXPECT_EQ(get_u(f, "tokenizer.ggml.eos_token_id"), 1u);
  EXPECT_EQ(*f.find("tokenizer.ggml.add_bos_token")->as_bool(), true);
  EXPECT_EQ(f.find("tokenizer.ggml.suppress_tokens") != nullptr, opts.variant == "12b");

  // Tensors.
  const int64_t H = 256, V = 1024;
  check_tensor(f, "token_embd.weight", {H, V});
  check_tensor(f, "output_norm.weight", {H});
  check_tensor(f, "rope_freqs.weight", {64});
  EXPECT_EQ(f.find_tensor("output.weight"), nullptr);
  if (s.ple > 0) {
    check_tensor(f, "per_layer_token_embd.weight", {s.n_layer * 64, V});
    check_tensor(f, "per_layer_model_proj.weight", {H, s.n_layer * 64});
    check_tensor(f, "per_layer_proj_norm.weight", {64});
  } else {
    EXPECT_EQ(f.find_tensor("per_layer_token_embd.weight"), nullptr);
  }
  for (int l = 0; l < s.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    const int64_t d = s.is_global(l) ? 128 : 64;
    const int64_t kvh = s.n_head_kv(l);
    check_tensor(f, b + "attn_q.weight", {H, s.n_head * d});
    check_tensor(f, b + "attn_k.weight", {H, kvh * d});
    if (s.k_eq_v && s.is_global(l)) {
      EXPECT_EQ(f.find_tensor(b + "attn_v.weight"), nullptr) << b;
    } else {
      check_tensor(f, b + "attn_v.weight", {H, kvh * d});
    }
    check_tensor(f, b + "attn_output.weight", {s.n_head * d, H});
    check_tensor(f, b + "attn_q_norm.weight", {d});
    check_tensor(f, b + "attn_k_norm.weight", {d});
    check_tensor(f, b + "ffn_gate.weight", {H, s.n_ff[l]});
    check_tensor(f, b + "ffn_up.weight", {H, s.n_ff[l]});
    check_tensor(f, b + "ffn_down.weight", {s.n_ff[l], H});
    check_tensor(f, b + "layer_output_scale.weight", {1});
    if (s.n_expert > 0) {
      check_tensor(f, b + "ffn_gate_inp.weight", {H, 16});
      check_tensor(f, b + "ffn_gate_inp.scale", {H});
      check_tensor(f, b + "ffn_gate_up_exps.weight", {H, 128, 16});
      check_tensor(f, b + "ffn_down_exps.weight", {64, H, 16});
      check_tensor(f, b + "ffn_down_exps.scale", {16});
      check_tensor(f, b + "pre_ffw_norm_2.weight", {H});
      check_tensor(f, b + "post_ffw_norm_1.weight", {H});
      check_tensor(f, b + "post_ffw_norm_2.weight", {H});
    }
    if (s.ple > 0) {
      check_tensor(f, b + "inp_gate.weight", {H, 64});
      check_tensor(f, b + "proj.weight", {64, H});
      check_tensor(f, b + "post_norm.weight", {H});
    }
  }
  // Types: 1-D F32, the rest F16.
  for (const auto& t : f.tensors()) {
    EXPECT_EQ(t.type, t.ne.size() == 1 ? GgmlType::F32 : GgmlType::F16) << t.name;
  }
  // Fixed values: rope_freqs = [1]*16 + [1e30]*48, layer_output_scale in [0.5, 1].
  auto rf = dequant(*f.find_tensor("rope_freqs.weight"));
  for (int i = 0; i < 64; ++i) EXPECT_EQ(rf[i], i < 16 ? 1.0f : 1e30f) << i;
  for (int l = 0; l < s.n_layer; ++l) {
    float v = dequant(*f.find_tensor("blk." + std::to_string(l) + ".layer_output_scale.weight"))[0];
    EXPECT_GE(v, 0.5f);
    EXPECT_LE(v, 1.0f);
  }
  std::filesystem::remove(w.path);
}

INSTANTIATE_TEST_SUITE_P(Synth, TinyVariant, ::testing::Values("e2b", "e4b", "12b", "26b-a4b", "31b"),
                         [](const auto& p) {
                           std::string n = p.param;
                           for (char& c : n) c = (c == '-') ? '_' : c;
                           return n;
                         });

TEST(Synth, E2BTinyKvSharingLayout) {
  auto s = model_shape("e2b", false);
  ASSERT_TRUE(s.ok());
  // Layers 5..9 share; the last two KV-owning layers are 3 (local) and 4 (global), as llama.cpp requires.
  EXPECT_FALSE(s->is_global(3));
  EXPECT_TRUE(s->is_global(4));
  EXPECT_TRUE(s->is_global(9));
  EXPECT_TRUE(s->has_kv(4));
  EXPECT_FALSE(s->has_kv(5));
  EXPECT_EQ(s->n_ff[4], 512);
  EXPECT_EQ(s->n_ff[5], 1024);
}

TEST(Synth, FullShapesMatchSpec) {
  auto e2b = model_shape("e2b", true);
  ASSERT_TRUE(e2b.ok());
  EXPECT_EQ(e2b->n_embd, 1536);
  EXPECT_EQ(e2b->n_layer, 35);
  EXPECT_EQ(e2b->n_ff[14], 6144);
  EXPECT_EQ(e2b->n_ff[15], 12288);
  EXPECT_EQ(e2b->ple, 256);
  EXPECT_EQ(e2b->rope_pairs_global, 64);
  auto moe = model_shape("26b-a4b", true);
  ASSERT_TRUE(moe.ok());
  EXPECT_EQ(moe->n_expert, 128);
  EXPECT_EQ(moe->n_ff_exp, 704);
  EXPECT_EQ(moe->n_head_kv(5), 2);
  EXPECT_EQ(moe->n_head_kv(4), 8);
  auto b31 = model_shape("31b", true);
  ASSERT_TRUE(b31.ok());
  EXPECT_EQ(b31->n_embd, 5376);
  EXPECT_EQ(b31->n_head_kv(59), 4);
  auto b12 = model_shape("12b", true);
  ASSERT_TRUE(b12.ok());
  EXPECT_EQ(b12->n_layer, 48);
  EXPECT_EQ(b12->n_head_kv(47), 1);
  EXPECT_FALSE(model_shape("7b", false).ok());
}

TEST(Synth, QuantFallbacksFollowLlamaQuantize) {
  SynthOptions opts;
  opts.variant = "26b-a4b";
  opts.type = "q4_k";
  auto plan = plan_tensors(opts);
  ASSERT_TRUE(plan.ok());
  std::map<std::string, GgmlType> types;
  for (const auto& t : *plan) types[t.name] = t.type;
  EXPECT_EQ(types["token_embd.weight"], GgmlType::Q4_K);
  EXPECT_EQ(types["blk.0.ffn_down_exps.weight"], GgmlType::Q5_0);  // ne0 = 64
  EXPECT_EQ(types["blk.0.ffn_gate_up_exps.weight"], GgmlType::Q4_K);
  EXPECT_EQ(types["blk.0.ffn_down_exps.scale"], GgmlType::F32);
  EXPECT_EQ(fallback_type(GgmlType::Q6_K, 64), GgmlType::Q8_0);
  EXPECT_EQ(fallback_type(GgmlType::Q5_K, 64), GgmlType::Q5_1);
  EXPECT_EQ(fallback_type(GgmlType::Q2_K, 64), GgmlType::Q4_0);
  EXPECT_EQ(fallback_type(GgmlType::Q4_0, 48), GgmlType::F16);

  opts.variant = "e2b";
  opts.type = "q4_k_m";
  plan = plan_tensors(opts);
  ASSERT_TRUE(plan.ok());
  types.clear();
  for (const auto& t : *plan) types[t.name] = t.type;
  EXPECT_EQ(types["token_embd.weight"], GgmlType::Q6_K);
  EXPECT_EQ(types["per_layer_token_embd.weight"], GgmlType::Q8_0);  // 640 is not a multiple of 256
  EXPECT_EQ(types["blk.0.attn_v.weight"], GgmlType::Q6_K);          // use_more_bits(0, 10)
  EXPECT_EQ(types["blk.2.attn_v.weight"], GgmlType::Q4_K);
  EXPECT_EQ(types["blk.9.ffn_down.weight"], GgmlType::Q6_K);
  EXPECT_EQ(types["blk.0.proj.weight"], GgmlType::Q5_0);  // ne0 = 64
  EXPECT_EQ(types["per_layer_model_proj.weight"], GgmlType::BF16);
}

TEST(Synth, EveryWeightTypeWritesAndDecodes) {
  for (const std::string type :
       {"f32", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q4_k_m"}) {
    SynthOptions opts;
    opts.variant = "31b";
    opts.type = type;
    auto w = write_and_open(opts);
    const GgufTensorInfo* t = w.file.find_tensor("blk.0.ffn_gate.weight");
    ASSERT_NE(t, nullptr);
    auto v = dequant(*t);
    double sum = 0, sq = 0;
    for (float x : v) {
      ASSERT_TRUE(std::isfinite(x));
      sum += x;
      sq += static_cast<double>(x) * x;
    }
    const double mean = sum / v.size(), sd = std::sqrt(sq / v.size() - mean * mean);
    EXPECT_NEAR(mean, 0.0, 0.01) << type;
    EXPECT_NEAR(sd, 1.0 / 16.0, 0.012) << type;  // N(0, 1/H), H = 256
    std::filesystem::remove(w.path);
  }
}

TEST(Synth, DeterministicAndSplitExpertsMatchFused) {
  SynthOptions opts;
  opts.variant = "26b-a4b";
  opts.type = "f32";
  opts.seed = 7;
  opts.threads = 1;
  auto a = write_and_open(opts);
  opts.threads = 3;
  opts.split_experts = true;
  auto b = write_and_open(opts);
  // Same seed, different thread count: identical values.
  for (const char* name : {"token_embd.weight", "blk.2.attn_q.weight", "blk.5.ffn_down_exps.weight"}) {
    const auto* ta = a.file.find_tensor(name);
    const auto* tb = b.file.find_tensor(name);
    ASSERT_TRUE(ta && tb) << name;
    ASSERT_EQ(ta->n_bytes, tb->n_bytes);
    EXPECT_EQ(std::memcmp(ta->data, tb->data, ta->n_bytes), 0) << name;
  }
  // Split gate/up hold exactly the fused tensor's halves.
  EXPECT_EQ(b.file.find_tensor("blk.1.ffn_gate_up_exps.weight"), nullptr);
  const auto* fused = a.file.find_tensor("blk.1.ffn_gate_up_exps.weight");
  const auto* gate = b.file.find_tensor("blk.1.ffn_gate_exps.weight");
  const auto* up = b.file.find_tensor("blk.1.ffn_up_exps.weight");
  ASSERT_TRUE(fused && gate && up);
  EXPECT_EQ(gate->ne, (std::vector<int64_t>{256, 64, 16}));
  const float* fv = reinterpret_cast<const float*>(fused->data);
  const float* gv = reinterpret_cast<const float*>(gate->data);
  const float* uv = reinterpret_cast<const float*>(up->data);
  for (int e = 0; e < 16; ++e) {
    for (int j = 0; j < 64; ++j) {
      EXPECT_EQ(std::memcmp(gv + (e * 64 + j) * 256, fv + (e * 128 + j) * 256, 256 * 4), 0);
      EXPECT_EQ(std::memcmp(uv + (e * 64 + j) * 256, fv + (e * 128 + 64 + j) * 256, 256 * 4), 0);
    }
  }
  // A different seed gives different weights.
  opts.seed = 8;
  opts.split_experts = false;
  auto c = write_and_open(opts);
  const auto* tc = c.file.find_tensor("token_embd.weight");
  EXPECT_NE(std::memcmp(tc->data, a.file.find_tensor("token_embd.weight")->data, tc->n_bytes), 0);
  for (auto* p : {&a.path, &b.path, &c.path}) std::filesystem::remove(*p);
}

TEST(Synth, VocabularyIsUniqueAndMergesAreBuildable) {
  auto v = detail::make_vocab(262144);
  ASSERT_EQ(v.tokens.size(), 262144u);
  std::set<std::string> seen(v.tokens.begin(), v.tokens.end());
  EXPECT_EQ(seen.size(), v.tokens.size());
  EXPECT_EQ(v.tokens[107], "<0x00>");
  EXPECT_EQ(v.types[107], 6);
  EXPECT_EQ(v.tokens[255999], "<|image>");
  EXPECT_EQ(v.tokens[258880], "<|image|>");
  EXPECT_EQ(v.tokens[258883], "<audio|>");
  EXPECT_EQ(v.types[258884], 3);
  auto tiny = detail::make_vocab(1024);
  ASSERT_EQ(tiny.tokens.size(), 1024u);
  EXPECT_EQ(tiny.tokens[1020], "<|image|>");
  EXPECT_EQ(tiny.tokens[1022], "<image|>");  // the 12B's suppress_tokens
  EXPECT_EQ(tiny.tokens[1023], "<audio|>");
  for (size_t i = 0; i < v.merges.size(); i += 997) {
    const auto& m = v.merges[i];
    const size_t sp = m.find(' ', 1);
    ASSERT_NE(sp, std::string::npos);
    EXPECT_TRUE(seen.count(m.substr(0, sp)));
    EXPECT_TRUE(seen.count(m.substr(sp + 1)));
    EXPECT_TRUE(seen.count(m.substr(0, sp) + m.substr(sp + 1)));
  }
}

}  // namespace
}  // namespace pocket::synth
