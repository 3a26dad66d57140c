// pocket_export_hf: writes a gemma4 GGUF (e.g. a `pocket synth` model) as a Hugging Face checkpoint
// directory, the input of `pocket convert`: config.json with the real Gemma 4 fields, safetensors with
// the HF tensor names and shapes, tokenizer.json, tokenizer_config.json, chat_template.jinja and
// generation_config.json. Test tool only.
//
//   pocket_export_hf --gguf SRC.gguf --out DIR [--dtype bf16|f32] [--arch cond|causal|unified]
//                    [--config flat|per_layer] [--shards N] [--tokenizer-json PATH [--gemma4-names]]
//                    [--mmproj MMPROJ.gguf] [--drop HF_TENSOR_NAME]
//
// --arch cond (default): Gemma4ForConditionalGeneration, tensors under model.language_model., config with
// text_config, plus two small vision tensors the text conversion must skip. causal: Gemma4ForCausalLM,
// tensors under model., flat config. unified: Gemma4UnifiedForConditionalGeneration (12B), with
// suppress_tokens in generation_config.json. --config per_layer: global head dim and KV heads in
// per_layer_config instead of global_head_dim / num_global_key_value_heads (newer transformers).
// Without --tokenizer-json the tokenizer is built from the GGUF's own vocabulary; with it the given file
// is written (--gemma4-names: renamed to Gemma 4's special tokens and cut to 262,144 ids, as the real
// Gemma 4 tokenizer.json is).
// --mmproj: the vision (and audio) towers of an mmproj GGUF (e.g. `pocket synth-mmproj`) go into the
// checkpoint under their HF names, shapes and values (export_hf_mmproj.h), with vision_config /
// audio_config and processor_config.json, instead of the placeholder tensors. --drop leaves one tensor
// out (bad-input tests).
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "export_hf_mmproj.h"
#include "format/gguf.h"
#include "format/safetensors.h"
#include "hf_test_util.h"
#include "tensor/quants.h"

namespace {

using json = nlohmann::json;
using namespace pocket;
namespace ct = pocket::convert_test;
namespace fs = std::filesystem;

struct Args {
  std::string gguf, out, dtype = "bf16", arch = "cond", config = "flat", tokenizer_json, mmproj, drop;
  int shards = 1;
  bool gemma4_names = false;
};

int die(const std::string& msg) {
  std::fprintf(stderr, "pocket_export_hf: error: %s\n", msg.c_str());
  return 1;
}

int64_t uint_key(const GgufFile& f, const std::string& key, int64_t dflt = -1) {
  const GgufValue* v = f.find(key);
  if (!v) return dflt;
  if (auto u = v->as_uint()) return static_cast<int64_t>(*u);
  if (auto a = v->as_int_array(); a && !a->empty()) return (*a)[0];
  return dflt;
}

std::vector<int64_t> int_array(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.find(key);
  if (!v) return {};
  if (auto a = v->as_int_array()) return *a;
  if (auto u = v->as_uint()) return {static_cast<int64_t>(*u)};
  return {};
}

double float_key(const GgufFile& f, const std::string& key, double dflt) {
  const GgufValue* v = f.find(key);
  auto x = v ? v->as_float() : std::nullopt;
  return x ? *x : dflt;
}

// The tensor's values encoded as the safetensors dtype.
std::vector<uint8_t> encode(const GgufTensorInfo& t, const std::string& dtype) {
  const int64_t ne0 = t.ne[0], rows = t.n_rows();
  const GgmlType to = dtype == "BF16" ? GgmlType::BF16 : GgmlType::F32;
  std::vector<uint8_t> out(row_size(to, ne0) * static_cast<size_t>(rows));
  std::vector<float> f(static_cast<size_t>(ne0));
  const size_t in_row = row_size(t.type, ne0), out_row = row_size(to, ne0);
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(t.type, t.data + static_cast<size_t>(r) * in_row, f.data(), ne0);
    quantize_row(to, f.data(), out.data() + static_cast<size_t>(r) * out_row, ne0);
  }
  return out;
}

json tokenizer_from_gguf(const GgufFile& f) {
  const auto* tokens = f.find("tokenizer.ggml.tokens")->as_string_array();
  const auto types = f.find("tokenizer.ggml.token_type")->as_int_array().value_or(std::vector<int64_t>{});
  const auto* merges = f.find("tokenizer.ggml.merges") ? f.find("tokenizer.ggml.merges")->as_string_array() : nullptr;
  json vocab = json::object(), added = json::array();
  for (size_t id = 0; id < tokens->size(); ++id) {
    vocab[(*tokens)[id]] = id;
    const int64_t ty = id < types.size() ? types[id] : 1;
    if (ty == 2 || ty == 3 || ty == 4 || ty == 5) {
      added.push_back({{"id", id},
                       {"content", (*tokens)[id]},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"normalized", false},
                       {"special", ty == 2 || ty == 3}});
    }
  }
  json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = added;
  j["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}};
  j["pre_tokenizer"] = {
      {"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithPrevious"}, {"invert", false}};
  const json bos = {{"SpecialToken", {{"id", "<bos>"}, {"type_id", 0}}}};
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single", {bos, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                         {"pair",
                          {bos,
                           {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                           {{"SpecialToken", {{"id", "<bos>"}, {"type_id", 1}}}},
                           {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
                         {"special_tokens", {{"<bos>", {{"id", "<bos>"}, {"ids", {2}}, {"tokens", {"<bos>"}}}}}}};
  j["decoder"] = {{"type", "Sequence"}, {"decoders", json::array()}};
  json m_merges = json::array();
  if (merges) {
    for (const auto& m : *merges) {
      const size_t sp = m.find(' ');
      m_merges.push_back({m.substr(0, sp), m.substr(sp + 1)});
    }
  }
  j["model"] = {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", "<unk>"},
                {"continuing_subword_prefix", nullptr},
                {"end_of_word_suffix", nullptr},
                {"fuse_unk", true},
                {"byte_fallback", true},
                {"ignore_merges", false},
                {"vocab", vocab},
                {"merges", m_merges}};
  return j;
}

// The Gemma 3 tokenizer.json with Gemma 4's special-token names, cut to 262,144 ids.
void rename_to_gemma4(json& j) {
  json& vocab = j["model"]["vocab"];
  std::map<int64_t, std::string> old_text;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) old_text[it.value().get<int64_t>()] = it.key();
  json added = json::array();
  std::map<int64_t, size_t> added_index;
  for (const json& a : j["added_tokens"]) {
    if (a["id"].get<int64_t>() >= 262144) continue;
    added_index[a["id"].get<int64_t>()] = added.size();
    added.push_back(a);
  }
  for (const auto& r : ct::gemma4_renames()) {
    vocab.erase(old_text[r.id]);
    vocab[r.name] = r.id;
    if (auto it = added_index.find(r.id); it != added_index.end()) {
      added[it->second]["content"] = r.name;
      added[it->second]["special"] = true;
    } else {
      added.push_back({{"id", r.id},
                       {"content", r.name},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"normalized", false},
                       {"special", true}});
    }
  }
  j["added_tokens"] = added;
}

int run(const Args& a) {
  auto fr = GgufFile::open(a.gguf);
  if (!fr) return die(fr.error().message);
  const GgufFile& f = *fr;
  const std::string g = "gemma4.";
  const int64_t L = uint_key(f, g + "block_count"), H = uint_key(f, g + "embedding_length");
  const std::vector<int64_t> ff = int_array(f, g + "feed_forward_length");
  const std::vector<int64_t> kv = int_array(f, g + "attention.head_count_kv");
  const auto swa_v = f.find(g + "attention.sliding_window_pattern")->as_bool_array().value();
  const int64_t shared = uint_key(f, g + "attention.shared_kv_layers", 0);
  const int64_t hd_full = uint_key(f, g + "attention.key_length"), hd = uint_key(f, g + "attention.key_length_swa");
  const int64_t n_vocab = static_cast<int64_t>(f.find("tokenizer.ggml.tokens")->array_size());
  int64_t kv_local = kv[0], kv_global = -1;
  for (int64_t l = 0; l < L; ++l) {
    if (kv.size() > 1 && !swa_v[static_cast<size_t>(l)]) kv_global = kv[static_cast<size_t>(l)];
  }
  bool k_eq_v = false, double_wide = false;
  for (int64_t l = 0; l < L; ++l) {
    if (!swa_v[static_cast<size_t>(l)] && !f.find_tensor("blk." + std::to_string(l) + ".attn_v.weight")) k_eq_v = true;
    if (ff.size() > 1 && ff[static_cast<size_t>(l)] == 2 * ff[0]) double_wide = true;
  }
  int rotated = 0;
  if (const GgufTensorInfo* rf = f.find_tensor("rope_freqs.weight")) {
    std::vector<float> v(static_cast<size_t>(rf->ne[0]));
    std::memcpy(v.data(), rf->data, v.size() * 4);
    for (float x : v) rotated += x == 1.0f ? 1 : 0;
  }
  const int64_t E = uint_key(f, g + "expert_count", 0);

  json tc;
  tc["model_type"] = a.arch == "unified" ? "gemma4_unified_text" : "gemma4_text";
  tc["vocab_size"] = n_vocab;
  tc["hidden_size"] = H;
  tc["intermediate_size"] = ff[0];
  tc["num_hidden_layers"] = L;
  tc["num_attention_heads"] = uint_key(f, g + "attention.head_count");
  tc["num_key_value_heads"] = kv_local;
  tc["num_global_key_value_heads"] = kv_global > 0 ? json(kv_global) : json(nullptr);
  tc["head_dim"] = hd;
  tc["global_head_dim"] = hd_full;
  tc["hidden_activation"] = "gelu_pytorch_tanh";
  tc["max_position_embeddings"] = uint_key(f, g + "context_length");
  tc["rms_norm_eps"] = float_key(f, g + "attention.layer_norm_rms_epsilon", 1e-6);
  tc["pad_token_id"] = 0;
  tc["eos_token_id"] = 1;
  tc["bos_token_id"] = 2;
  tc["tie_word_embeddings"] = true;
  tc["attention_bias"] = false;
  tc["attention_dropout"] = 0.0;
  tc["sliding_window"] = uint_key(f, g + "attention.sliding_window");
  json types = json::array();
  for (bool s : swa_v) types.push_back(s ? "sliding_attention" : "full_attention");
  tc["layer_types"] = types;
  tc["rope_parameters"] = {
      {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", float_key(f, g + "rope.freq_base_swa", 1e4)}}},
      {"full_attention",
       {{"rope_type", "proportional"},
        {"partial_rotary_factor", 2.0 * rotated / static_cast<double>(hd_full)},
        {"rope_theta", float_key(f, g + "rope.freq_base", 1e6)}}}};
  tc["final_logit_softcapping"] = float_key(f, g + "final_logit_softcapping", 30.0);
  tc["use_bidirectional_attention"] = kv_global > 0 ? json("vision") : json(nullptr);
  const int64_t P = uint_key(f, g + "embedding_length_per_layer_input", 0);
  tc["vocab_size_per_layer_input"] = n_vocab;
  tc["hidden_size_per_layer_input"] = P;
  tc["attention_k_eq_v"] = k_eq_v;
  tc["num_kv_shared_layers"] = shared;
  tc["enable_moe_block"] = E > 0;
  tc["use_double_wide_mlp"] = double_wide;
  tc["num_experts"] = E > 0 ? json(E) : json(nullptr);
  tc["top_k_experts"] = E > 0 ? json(uint_key(f, g + "expert_used_count")) : json(nullptr);
  tc["moe_intermediate_size"] = E > 0 ? json(uint_key(f, g + "expert_feed_forward_length")) : json(nullptr);
  if (a.config == "per_layer") {
    json plc = json::object();
    for (int64_t l = 0; l < L; ++l) {
      if (swa_v[static_cast<size_t>(l)]) continue;
      plc[std::to_string(l)] = {{"head_dim", hd_full}};
      if (kv_global > 0) plc[std::to_string(l)]["num_key_value_heads"] = kv_global;
    }
    tc.erase("global_head_dim");
    tc.erase("num_global_key_value_heads");
    tc["per_layer_config"] = plc;
  }

  json cfg;
  std::string prefix = "model.language_model.";
  if (a.arch == "causal") {
    cfg = tc;
    cfg["architectures"] = {"Gemma4ForCausalLM"};
    prefix = "model.";
  } else {
    cfg["architectures"] = {a.arch == "unified" ? "Gemma4UnifiedForConditionalGeneration"
                                                : "Gemma4ForConditionalGeneration"};
    cfg["model_type"] = a.arch == "unified" ? "gemma4_unified" : "gemma4";
    cfg["text_config"] = tc;
    cfg["vision_config"] = {{"model_type", "gemma4_vision"}, {"hidden_size", 32}};
    cfg["boi_token_id"] = 255999;
    cfg["eoi_token_id"] = 258882;
    cfg["image_token_id"] = 258880;
    cfg["eos_token_id"] = {1, 106};
    cfg["tie_word_embeddings"] = true;
    cfg["dtype"] = a.dtype == "bf16" ? "bfloat16" : "float32";
  }
  cfg["transformers_version"] = "5.5.0";

  std::optional<ct::HfTower> tower;
  if (!a.mmproj.empty()) {
    if (a.arch == "causal") return die("--mmproj needs --arch cond or unified (a text-only checkpoint has no towers)");
    auto mf = GgufFile::open(a.mmproj);
    if (!mf) return die(mf.error().message);
    auto t = ct::hf_tower_from_mmproj(*mf, a.dtype == "bf16" ? "BF16" : "F32");
    if (!t) return die(t.error().message);
    tower = std::move(t).value();
    cfg["vision_config"] = tower->vision_config;
    if (!tower->audio_config.is_null()) cfg["audio_config"] = tower->audio_config;
  }

  fs::create_directories(a.out);
  if (!ct::write_file(a.out + "/config.json", cfg.dump(2))) return die(a.out + ": cannot write config.json");

  // Weights.
  const std::string dtype = a.dtype == "bf16" ? "BF16" : "F32";
  std::vector<SafetensorsWriteTensor> all;
  for (const auto& t : f.tensors()) {
    if (t.name == "rope_freqs.weight") continue;  // generated by the converter
    const std::string hf = ct::hf_name_for(t.name, prefix);
    if (hf.empty()) return die("no HF name for tensor " + t.name);
    all.push_back({hf, dtype, std::vector<int64_t>(t.ne.rbegin(), t.ne.rend()), encode(t, dtype)});
  }
  if (tower) {
    for (auto& t : tower->tensors) all.push_back(std::move(t));
    ct::write_file(a.out + "/processor_config.json", tower->processor_config.dump(2));
  } else if (a.arch != "causal") {  // a scrap of the vision tower: skipped by the text conversion
    all.push_back({"model.vision_tower.encoder.layers.0.mlp.fc1.weight",
                   dtype,
                   {4, 8},
                   std::vector<uint8_t>(32 * (dtype == "BF16" ? 2 : 4), 0)});
    all.push_back({"model.embed_vision.embedding_projection.weight",
                   dtype,
                   {static_cast<int64_t>(H), 8},
                   std::vector<uint8_t>(static_cast<size_t>(H) * 8 * (dtype == "BF16" ? 2 : 4), 0)});
  }
  if (!a.drop.empty()) {
    const size_t before = all.size();
    std::erase_if(all, [&](const SafetensorsWriteTensor& t) { return t.name == a.drop; });
    if (all.size() == before) return die("--drop: no tensor " + a.drop);
  }
  const int n = std::max(1, a.shards);
  std::vector<std::vector<SafetensorsWriteTensor>> parts(static_cast<size_t>(n));
  for (size_t i = 0; i < all.size(); ++i) parts[i % static_cast<size_t>(n)].push_back(std::move(all[i]));
  json weight_map = json::object();
  for (int i = 0; i < n; ++i) {
    char name[64];
    std::snprintf(name, sizeof(name), "model-%05d-of-%05d.safetensors", i + 1, n);
    const std::string file = n == 1 ? "model.safetensors" : name;
    for (const auto& t : parts[static_cast<size_t>(i)]) weight_map[t.name] = file;
    if (Status st = write_safetensors(a.out + "/" + file, parts[static_cast<size_t>(i)], {{"format", "pt"}});
        !st.ok()) {
      return die(st.message());
    }
  }
  if (n > 1) {
    json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}};
    ct::write_file(a.out + "/model.safetensors.index.json", index.dump(2));
  }

  // Tokenizer.
  json tok;
  if (!a.tokenizer_json.empty()) {
    tok = json::parse(ct::read_file(a.tokenizer_json), nullptr, false);
    if (tok.is_discarded()) return die(a.tokenizer_json + ": not valid JSON");
    if (a.gemma4_names) rename_to_gemma4(tok);
  } else {
    tok = tokenizer_from_gguf(f);
  }
  ct::write_file(a.out + "/tokenizer.json", tok.dump());
  json tcfg = {{"add_bos_token", true},
               {"add_eos_token", false},
               {"bos_token", "<bos>"},
               {"eos_token", "<eos>"},
               {"pad_token", "<pad>"},
               {"unk_token", "<unk>"},
               {"mask_token", "<mask>"},
               {"model_max_length", 1000000000000000019884624838656.0},
               {"tokenizer_class", "GemmaTokenizer"},
               {"padding_side", "left"}};
  ct::write_file(a.out + "/tokenizer_config.json", tcfg.dump(2));
  ct::write_file(a.out + "/chat_template.jinja",
                 "{{ bos_token }}{% for m in messages %}<|turn>{{ m['role'] }}\n{{ m['content'] }}<turn|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|turn>model\n{% endif %}");
  json gen = {{"bos_token_id", 2},  {"eos_token_id", {1, 106}},
              {"pad_token_id", 0},  {"do_sample", true},
              {"top_k", 64},        {"top_p", 0.95},
              {"temperature", 1.0}, {"transformers_version", "5.5.0"}};
  if (a.arch == "unified") {
    const std::vector<int64_t> sup = int_array(f, "tokenizer.ggml.suppress_tokens");
    gen["suppress_tokens"] = sup;
  }
  ct::write_file(a.out + "/generation_config.json", gen.dump(2));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto need = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "pocket_export_hf: %s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--gguf")
      a.gguf = need();
    else if (k == "--out")
      a.out = need();
    else if (k == "--dtype")
      a.dtype = need();
    else if (k == "--arch")
      a.arch = need();
    else if (k == "--config")
      a.config = need();
    else if (k == "--shards")
      a.shards = std::atoi(need().c_str());
    else if (k == "--tokenizer-json")
      a.tokenizer_json = need();
    else if (k == "--drop")
      a.drop = need();
    else if (k == "--mmproj")
      a.mmproj = need();
    else if (k == "--gemma4-names")
      a.gemma4_names = true;
    else
      return die("unknown argument " + k);
  }
  if (a.gguf.empty() || a.out.empty()) return die("--gguf and --out are required");
  return run(a);
}
