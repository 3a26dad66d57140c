// HF tokenizer.json → GGUF tokenizer keys (mirrors llama.cpp's Gemma4Model.set_vocab / LlamaHfVocab /
// SpecialVocab), and the vocabulary-swapping GGUF rewriter.
#include "text/hf_tokenizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "tensor/quants.h"

namespace pocket {
namespace {

using json = nlohmann::json;

constexpr float kScore = -1000.0f;  // LlamaHfVocab.get_token_score: a placeholder for every token

bool is_byte_token(const std::string& s) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); };
  return s.size() == 6 && s.compare(0, 3, "<0x") == 0 && hex(s[3]) && hex(s[4]) && s[5] == '>';
}

// Gemma 3 → Gemma 4 special-token names at fixed ids (spec §7.3/§7.4). `old` is Gemma 3's text when it
// is not an <unusedN> placeholder.
struct Rename {
  int32_t id;
  const char* name;
  const char* old;
};
constexpr Rename kGemma4Names[] = {
    {46, "<|tool>", nullptr},
    {47, "<tool|>", nullptr},
    {48, "<|tool_call>", nullptr},
    {49, "<tool_call|>", nullptr},
    {50, "<|tool_response>", nullptr},
    {51, "<tool_response|>", nullptr},
    {52, "<|\"|>", nullptr},
    {98, "<|think|>", nullptr},
    {100, "<|channel>", nullptr},
    {101, "<channel|>", nullptr},
    {105, "<|turn>", "<start_of_turn>"},
    {106, "<turn|>", "<end_of_turn>"},
    {255999, "<|image>", "<start_of_image>"},
    {256000, "<|audio>", "<end_of_image>"},
    {258880, "<|image|>", nullptr},
    {258881, "<|audio|>", nullptr},
    {258882, "<image|>", nullptr},
    {258883, "<audio|>", nullptr},
    {258884, "<|video|>", nullptr},
};
constexpr int32_t kGemma4Vocab = 262144;

// Rendered by llama.cpp's chat parser even without special-token rendering (Gemma4Model.set_vocab).
const std::set<std::string> kVisibleTokens = {"<|channel>",       "<channel|>",       "<|tool_call>", "<tool_call|>",
                                              "<|tool_response>", "<tool_response|>", "<|\"|>"};

std::string encode_merge_part(const std::string& part) {
  // gguf-py: a space inside a merge part is written as chr(ord(' ') + 256) = U+0120 "Ġ".
  std::string out;
  for (char c : part) {
    if (c == ' ') {
      out += "\xC4\xA0";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Result<TokenizerVocab> import_hf_tokenizer_json(std::string_view json_text, const HfImportOptions& options) {
  json j = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Error{"tokenizer.json: not valid JSON"};
  if (!j.contains("model") || !j["model"].is_object()) return Error{"tokenizer.json: missing \"model\""};
  const json& model = j["model"];
  if (model.value("type", std::string()) != "BPE") {
    return Error{"tokenizer.json: model type is '" + model.value("type", std::string()) + "', expected BPE"};
  }
  if (!model.value("byte_fallback", false)) return Error{"tokenizer.json: BPE model without byte_fallback"};
  if (!model.contains("vocab") || !model["vocab"].is_object()) return Error{"tokenizer.json: missing model.vocab"};
  if (!model.contains("merges") || !model["merges"].is_array()) return Error{"tokenizer.json: missing model.merges"};

  // Base vocabulary: ids 0 .. n_base-1, each exactly once.
  const json& vocab = model["vocab"];
  const size_t n_base = vocab.size();
  std::vector<std::string> texts(n_base);
  std::vector<bool> seen(n_base, false);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer())
      return Error{"tokenizer.json: vocab entry '" + it.key() + "' has no integer id"};
    const int64_t id = it.value().get<int64_t>();
    if (id < 0 || static_cast<size_t>(id) >= n_base || seen[static_cast<size_t>(id)]) {
      return Error{"tokenizer.json: vocab ids are not 0.." + std::to_string(n_base - 1) + " (id " + std::to_string(id) +
                   ")"};
    }
    seen[static_cast<size_t>(id)] = true;
    texts[static_cast<size_t>(id)] = it.key();
  }

  // Added tokens: those inside the base range keep their id (their text wins, as in HF's id→token);
  // those beyond it are appended in id order and must continue the ids without gaps.
  std::unordered_set<int64_t> special;
  std::map<int64_t, std::string> beyond;
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const json& a : j["added_tokens"]) {
      if (!a.is_object() || !a.contains("id") || !a.contains("content") || !a["id"].is_number_integer() ||
          !a["content"].is_string()) {
        return Error{"tokenizer.json: malformed added_tokens entry"};
      }
      const int64_t id = a["id"].get<int64_t>();
      const std::string content = a["content"].get<std::string>();
      if (id < 0) return Error{"tokenizer.json: negative added token id"};
      if (a.value("special", false)) special.insert(id);
      if (static_cast<size_t>(id) < n_base) {
        texts[static_cast<size_t>(id)] = content;
      } else {
        beyond[id] = content;
      }
    }
  }
  int64_t next = static_cast<int64_t>(n_base);
  for (const auto& [id, content] : beyond) {
    if (id != next)
      return Error{"tokenizer.json: added token ids skip from " + std::to_string(next) + " to " + std::to_string(id)};
    texts.push_back(content);
    ++next;
  }

  if (options.gemma4_names) {
    if (texts.size() < static_cast<size_t>(kGemma4Vocab)) {
      return Error{"tokenizer.json: " + std::to_string(texts.size()) +
                   " tokens; the Gemma 4 renaming needs the 262,144-token Gemma 3 vocabulary"};
    }
    for (const Rename& r : kGemma4Names) {
      const std::string& old = texts[static_cast<size_t>(r.id)];
      const bool ok = r.old ? old == r.old : old.rfind("<unused", 0) == 0;
      if (!ok) {
        return Error{"tokenizer.json: id " + std::to_string(r.id) + " is '" + old + "', expected " +
                     (r.old ? std::string("'") + r.old + "'" : std::string("an <unusedN> placeholder")) +
                     " (not the Gemma 3 tokenizer?)"};
      }
      texts[static_cast<size_t>(r.id)] = r.name;
      special.insert(r.id);
    }
    texts.resize(static_cast<size_t>(kGemma4Vocab));
  }

  TokenizerVocab v;
  v.model = "gemma4";
  v.tokens = std::move(texts);
  const size_t n = v.tokens.size();
  v.scores.assign(n, kScore);
  v.types.resize(n);
  for (size_t id = 0; id < n; ++id) {
    const std::string& t = v.tokens[id];
    TokenType type;
    if (id < n_base) {
      type = is_byte_token(t)                          ? TokenType::kByte
             : special.count(static_cast<int64_t>(id)) ? TokenType::kControl
                                                       : TokenType::kNormal;
    } else {
      type = special.count(static_cast<int64_t>(id)) ? TokenType::kControl : TokenType::kUserDefined;
    }
    if (kVisibleTokens.count(t)) type = TokenType::kUserDefined;
    v.types[id] = static_cast<int32_t>(type);
  }

  const json& merges = model["merges"];
  v.merges.reserve(merges.size());
  for (const json& m : merges) {
    if (m.is_string()) {
      v.merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      v.merges.push_back(encode_merge_part(m[0].get<std::string>()) + " " + encode_merge_part(m[1].get<std::string>()));
    } else {
      return Error{"tokenizer.json: unknown merges format"};
    }
  }

  std::unordered_map<std::string, int32_t> index;
  for (size_t id = 0; id < n; ++id) index.emplace(v.tokens[id], static_cast<int32_t>(id));
  auto id_of = [&](const std::string& s) {
    auto it = index.find(s);
    return it == index.end() ? -1 : it->second;
  };
  v.bos = id_of("<bos>");
  v.eos = id_of("<eos>");
  v.unk = model.contains("unk_token") && model["unk_token"].is_string() ? id_of(model["unk_token"].get<std::string>())
                                                                        : id_of("<unk>");
  v.pad = id_of("<pad>");
  v.add_bos = true;
  v.add_eos = false;
  return v;
}

Result<TokenizerVocab> import_hf_tokenizer_file(const std::string& path, const HfImportOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open"};
  std::stringstream ss;
  ss << in.rdbuf();
  auto v = import_hf_tokenizer_json(ss.str(), options);
  if (!v.ok()) return Error{path + ": " + v.error().message};
  return v;
}

void set_tokenizer_keys(GgufWriter& w, const TokenizerVocab& v) {
  w.set("tokenizer.ggml.model", GgufValue::str(v.model));
  w.set("tokenizer.ggml.tokens", GgufValue::str_array(v.tokens));
  std::vector<float> scores = v.scores;
  scores.resize(v.tokens.size(), kScore);
  w.set("tokenizer.ggml.scores", GgufValue::f32_array(scores));
  std::vector<int32_t> types = v.types;
  types.resize(v.tokens.size(), static_cast<int32_t>(TokenType::kNormal));
  w.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  w.set("tokenizer.ggml.merges", GgufValue::str_array(v.merges));
  const std::pair<const char*, int32_t> ids[] = {
      {"tokenizer.ggml.bos_token_id", v.bos},         {"tokenizer.ggml.eos_token_id", v.eos},
      {"tokenizer.ggml.eot_token_id", v.eot},         {"tokenizer.ggml.eom_token_id", v.eom},
      {"tokenizer.ggml.unknown_token_id", v.unk},     {"tokenizer.ggml.padding_token_id", v.pad},
      {"tokenizer.ggml.fim_pre_token_id", v.fim_pre}, {"tokenizer.ggml.fim_suf_token_id", v.fim_suf},
      {"tokenizer.ggml.fim_mid_token_id", v.fim_mid}, {"tokenizer.ggml.fim_pad_token_id", v.fim_pad},
      {"tokenizer.ggml.fim_rep_token_id", v.fim_rep}, {"tokenizer.ggml.fim_sep_token_id", v.fim_sep},
  };
  for (const auto& [key, id] : ids) {
    if (id >= 0) w.set(key, GgufValue::u32(static_cast<uint32_t>(id)));
  }
  w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(v.add_bos));
  w.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(v.add_eos));
  w.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(false));
}

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Mean and standard deviation of (a sample of) a 2-D tensor's rows.
std::pair<double, double> row_stats(const GgufTensorInfo& t) {
  const int64_t ne0 = t.ne[0], rows = t.n_rows();
  const size_t rs = row_size(t.type, ne0);
  const int64_t step = std::max<int64_t>(1, rows / 64);
  std::vector<float> buf(static_cast<size_t>(ne0));
  double sum = 0, sum2 = 0;
  int64_t count = 0;
  for (int64_t r = 0; r < rows; r += step) {
    dequantize_row(t.type, t.data + static_cast<size_t>(r) * rs, buf.data(), ne0);
    for (float x : buf) {
      sum += x;
      sum2 += static_cast<double>(x) * x;
    }
    count += ne0;
  }
  if (count == 0) return {0.0, 0.02};
  const double mean = sum / static_cast<double>(count);
  const double var = std::max(0.0, sum2 / static_cast<double>(count) - mean * mean);
  return {mean, var > 0 ? std::sqrt(var) : 0.02};
}

}  // namespace

Status write_gguf_with_vocab(const GgufFile& in, const TokenizerVocab& vocab, const std::string& out_path,
                             uint64_t seed) {
  if (vocab.tokens.empty()) return Error{"write_gguf_with_vocab: empty vocabulary"};
  int64_t old_n = -1;
  const std::vector<std::string>* old_tokens = nullptr;
  std::vector<int64_t> old_types;
  if (const GgufValue* t = in.find("tokenizer.ggml.tokens"); t && t->as_string_array()) {
    old_tokens = t->as_string_array();
    old_n = static_cast<int64_t>(old_tokens->size());
  }
  if (const GgufValue* t = in.find("tokenizer.ggml.token_type"); t && t->as_int_array()) old_types = *t->as_int_array();
  if (old_n < 0) {
    const GgufTensorInfo* e = in.find_tensor("token_embd.weight");
    if (!e || e->ne.size() != 2) return Error{in.path() + ": neither tokenizer.ggml.tokens nor token_embd.weight"};
    old_n = e->ne[1];
  }
  const auto new_n = static_cast<int64_t>(vocab.tokens.size());

  GgufWriter w;
  w.set_alignment(static_cast<uint32_t>(in.alignment()));
  for (const auto& [key, value] : in.metadata()) {
    if (key == "general.alignment" || key.rfind("tokenizer.ggml.", 0) == 0) continue;
    w.set(key, value);
  }
  set_tokenizer_keys(w, vocab);
  if (const GgufValue* sup = in.find("tokenizer.ggml.suppress_tokens"); sup && old_tokens) {
    std::unordered_map<std::string_view, int32_t> index;
    for (size_t i = 0; i < vocab.tokens.size(); ++i) index.emplace(vocab.tokens[i], static_cast<int32_t>(i));
    std::vector<int32_t> mapped;
    for (int64_t id : sup->as_int_array().value_or(std::vector<int64_t>{})) {
      if (id < 0 || id >= old_n) continue;
      const bool special = static_cast<size_t>(id) < old_types.size() &&
                           (old_types[static_cast<size_t>(id)] == static_cast<int>(TokenType::kControl) ||
                            old_types[static_cast<size_t>(id)] == static_cast<int>(TokenType::kUserDefined));
      auto it = index.find((*old_tokens)[static_cast<size_t>(id)]);
      if (special && it != index.end()) mapped.push_back(it->second);
    }
    if (!mapped.empty()) w.set("tokenizer.ggml.suppress_tokens", GgufValue::i32_array(mapped));
  }

  uint64_t tensor_index = 0;
  for (const GgufTensorInfo& t : in.tensors()) {
    ++tensor_index;
    const bool vocab_table =
        (t.name == "token_embd.weight" || t.name == "per_layer_token_embd.weight" || t.name == "output.weight") &&
        t.ne.size() == 2 && t.ne[1] == old_n;
    if (!vocab_table) {
      const GgufTensorInfo* src = &t;
      w.add_tensor(t.name, t.type, t.ne, [src](std::span<uint8_t> out) {
        std::memcpy(out.data(), src->data, std::min<size_t>(out.size(), src->n_bytes));
      });
      continue;
    }
    // Plain variables, not a structured binding: clang 14 cannot capture those in the lambda below.
    const std::pair<double, double> stats = row_stats(t);
    const double mean = stats.first, stddev = stats.second;
    const int64_t ne0 = t.ne[0];
    const GgmlType type = t.type;
    const uint64_t tseed = seed * 0x100000001B3ull + tensor_index;
    w.add_tensor(t.name, type, {ne0, new_n}, [=](std::span<uint8_t> out) {
      const size_t rs = row_size(type, ne0);
      std::vector<float> row(static_cast<size_t>(ne0));
      for (int64_t r = 0; r < new_n; ++r) {
        uint64_t state = tseed ^ (static_cast<uint64_t>(r) * 0xD1B54A32D192ED03ull);
        for (int64_t i = 0; i < ne0; i += 2) {
          // Box-Muller: two normal values from two uniforms in (0, 1].
          const double u1 = (static_cast<double>(splitmix64(state) >> 11) + 1.0) * 0x1.0p-53;
          const double u2 = static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53;
          const double rad = std::sqrt(-2.0 * std::log(u1));
          row[static_cast<size_t>(i)] = static_cast<float>(mean + stddev * rad * std::cos(6.283185307179586 * u2));
          if (i + 1 < ne0) {
            row[static_cast<size_t>(i + 1)] =
                static_cast<float>(mean + stddev * rad * std::sin(6.283185307179586 * u2));
          }
        }
        quantize_row(type, row.data(), out.data() + static_cast<size_t>(r) * rs, ne0);
      }
    });
  }
  return w.write(out_path);
}

}  // namespace pocket
