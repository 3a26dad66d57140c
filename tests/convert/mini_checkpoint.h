// A very small Gemma 4 Hugging Face checkpoint written directly by the tests (not through the
// exporter tool): 3 layers (local, local, global), H 64, PLE, k_eq_v off, bf16 weights, a 300-token
// tokenizer. Tests mutate the pieces (config, tensors, files) to produce bad input.
#pragma once

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "format/safetensors.h"
#include "hf_test_util.h"
#include "tensor/quants.h"

namespace pocket::convert_test {

struct MiniCheckpoint {
  nlohmann::json config;
  std::vector<SafetensorsWriteTensor> tensors;
  nlohmann::json tokenizer;
  nlohmann::json tokenizer_config;
  nlohmann::json generation_config;
  int n_vocab = 300;

  static MiniCheckpoint make() {
    using json = nlohmann::json;
    MiniCheckpoint m;
    json tc = {{"model_type", "gemma4_text"},
               {"vocab_size", m.n_vocab},
               {"hidden_size", 64},
               {"intermediate_size", 96},
               {"num_hidden_layers", 3},
               {"num_attention_heads", 2},
               {"num_key_value_heads", 1},
               {"num_global_key_value_heads", nullptr},
               {"head_dim", 32},
               {"global_head_dim", 64},
               {"max_position_embeddings", 4096},
               {"rms_norm_eps", 1e-6},
               {"sliding_window", 16},
               {"layer_types", {"sliding_attention", "sliding_attention", "full_attention"}},
               {"rope_parameters",
                {{"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 10000.0}}},
                 {"full_attention",
                  {{"rope_type", "proportional"}, {"partial_rotary_factor", 0.25}, {"rope_theta", 1000000.0}}}}},
               {"final_logit_softcapping", 30.0},
               {"hidden_size_per_layer_input", 16},
               {"vocab_size_per_layer_input", m.n_vocab},
               {"attention_k_eq_v", false},
               {"num_kv_shared_layers", 1},
               {"enable_moe_block", false},
               {"use_double_wide_mlp", true},
               {"num_experts", nullptr},
               {"top_k_experts", nullptr},
               {"moe_intermediate_size", nullptr}};
    m.config = {{"architectures", {"Gemma4ForConditionalGeneration"}},
                {"model_type", "gemma4"},
                {"text_config", tc},
                {"eos_token_id", {1, 106}},
                {"tie_word_embeddings", true}};
    const std::string p = "model.language_model.";
    auto add = [&](const std::string& name, std::vector<int64_t> shape) { m.add_random(p + name, std::move(shape)); };
    const int64_t V = m.n_vocab, H = 64, L = 3, P = 16;
    add("embed_tokens.weight", {V, H});
    add("embed_tokens_per_layer.weight", {V, L * P});
    add("per_layer_model_projection.weight", {L * P, H});
    add("per_layer_projection_norm.weight", {P});
    add("norm.weight", {H});
    for (int l = 0; l < 3; ++l) {
      const std::string b = "layers." + std::to_string(l) + ".";
      const int64_t d = l == 2 ? 64 : 32, F = l == 2 ? 192 : 96;  // layer 2: KV-shared, double-wide
      add(b + "input_layernorm.weight", {H});
      add(b + "self_attn.q_proj.weight", {2 * d, H});
      add(b + "self_attn.k_proj.weight", {d, H});
      add(b + "self_attn.v_proj.weight", {d, H});
      add(b + "self_attn.o_proj.weight", {H, 2 * d});
      add(b + "self_attn.q_norm.weight", {d});
      add(b + "self_attn.k_norm.weight", {d});
      add(b + "post_attention_layernorm.weight", {H});
      add(b + "pre_feedforward_layernorm.weight", {H});
      add(b + "post_feedforward_layernorm.weight", {H});
      add(b + "mlp.gate_proj.weight", {F, H});
      add(b + "mlp.up_proj.weight", {F, H});
      add(b + "mlp.down_proj.weight", {H, F});
      add(b + "layer_scalar", {1});
      add(b + "per_layer_input_gate.weight", {P, H});
      add(b + "per_layer_projection.weight", {H, P});
      add(b + "post_per_layer_input_norm.weight", {H});
    }
    m.tensors.push_back({"model.vision_tower.patch_embedder.weight", "BF16", {4, 4}, std::vector<uint8_t>(32, 0)});

    json vocab = json::object(), added = json::array();
    const char* specials[] = {"<pad>", "<eos>", "<bos>", "<unk>", "<mask>"};
    for (int i = 0; i < m.n_vocab; ++i) {
      std::string t;
      if (i < 5) {
        t = specials[i];
        added.push_back({{"id", i}, {"content", t}, {"special", i != 4}});
      } else if (i < 5 + 256) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "<0x%02X>", i - 5);
        t = buf;
      } else {
        t = std::string("tok") + std::to_string(i);
      }
      vocab[t] = i;
    }
    m.tokenizer = {{"version", "1.0"},
                   {"added_tokens", added},
                   {"post_processor",
                    {{"type", "TemplateProcessing"},
                     {"single", {{{"SpecialToken", {{"id", "<bos>"}}}}, {{"Sequence", {{"id", "A"}}}}}},
                     {"pair",
                      {{{"SpecialToken", {{"id", "<bos>"}}}},
                       {{"Sequence", {{"id", "A"}}}},
                       {{"SpecialToken", {{"id", "<bos>"}}}},
                       {{"Sequence", {{"id", "B"}}}}}}}},
                   {"model",
                    {{"type", "BPE"},
                     {"byte_fallback", true},
                     {"unk_token", "<unk>"},
                     {"vocab", vocab},
                     {"merges", json::array({json::array({"t", "o"}), json::array({"to", "k"})})}}}};
    m.tokenizer_config = {{"add_bos_token", true},  {"add_eos_token", false},
                          {"bos_token", "<bos>"},   {"eos_token", "<eos>"},
                          {"pad_token", "<pad>"},   {"unk_token", "<unk>"},
                          {"mask_token", "<mask>"}, {"chat_template", "{{ bos_token }}{{ messages }}"}};
    m.generation_config = {{"top_k", 64}, {"top_p", 0.95}, {"temperature", 1.0}, {"eos_token_id", {1, 106}}};
    return m;
  }

  void add_random(const std::string& name, std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string>()(name)));
    std::normal_distribution<float> dist(0.0f, 0.5f);
    std::vector<float> f(static_cast<size_t>(n));
    for (float& x : f) x = dist(rng);
    std::vector<uint8_t> b(static_cast<size_t>(n) * 2);
    quantize_row(GgmlType::BF16, f.data(), b.data(), n);
    tensors.push_back({name, "BF16", std::move(shape), std::move(b)});
  }

  SafetensorsWriteTensor* find(const std::string& name) {
    for (auto& t : tensors) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }

  // Writes the checkpoint into `dir` (created fresh); `shards` > 1 splits it with an index file.
  void write(const std::string& dir, int shards = 1) const {
    namespace fs = std::filesystem;
    fs::remove_all(dir);
    fs::create_directories(dir);
    write_file(dir + "/config.json", config.dump(2));
    write_file(dir + "/tokenizer.json", tokenizer.dump());
    write_file(dir + "/tokenizer_config.json", tokenizer_config.dump());
    write_file(dir + "/generation_config.json", generation_config.dump());
    if (shards <= 1) {
      (void)write_safetensors(dir + "/model.safetensors", tensors);
      return;
    }
    nlohmann::json map = nlohmann::json::object();
    for (int s = 0; s < shards; ++s) {
      std::vector<SafetensorsWriteTensor> part;
      for (size_t i = static_cast<size_t>(s); i < tensors.size(); i += static_cast<size_t>(shards))
        part.push_back(tensors[i]);
      const std::string file =
          "model-0000" + std::to_string(s + 1) + "-of-0000" + std::to_string(shards) + ".safetensors";
      for (const auto& t : part) map[t.name] = file;
      (void)write_safetensors(dir + "/" + file, part);
    }
    write_file(dir + "/model.safetensors.index.json", nlohmann::json({{"weight_map", map}}).dump());
  }
};

inline std::string test_dir(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("pocket_convert_test_" + name)).string();
}

}  // namespace pocket::convert_test
