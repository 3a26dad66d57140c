// The tokenizer section of a converted checkpoint, following llama.cpp's converter (Gemma4Model.set_vocab
// and gguf-py's SpecialVocab).
#include <cctype>
#include <fstream>
#include <sstream>

#include "convert/hf_internal.h"
#include "text/hf_tokenizer.h"

namespace pocket::convert::detail {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

Result<std::string> read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Error{p.string() + ": cannot open"};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The SpecialVocab types with a GGUF writer handler (cls has none: the converter skips it).
struct SpecialType {
  const char* typ;
  const char* id_key;  // "" if never written
};
constexpr SpecialType kSpecialTypes[] = {
    {"bos", "tokenizer.ggml.bos_token_id"},     {"eos", "tokenizer.ggml.eos_token_id"},
    {"unk", "tokenizer.ggml.unknown_token_id"}, {"sep", "tokenizer.ggml.seperator_token_id"},
    {"pad", "tokenizer.ggml.padding_token_id"}, {"cls", ""},
    {"mask", "tokenizer.ggml.mask_token_id"},
};

const char* add_key(const std::string& typ) {
  if (typ == "bos") return "tokenizer.ggml.add_bos_token";
  if (typ == "eos") return "tokenizer.ggml.add_eos_token";
  if (typ == "sep") return "tokenizer.ggml.add_sep_token";
  return nullptr;  // no writer handler
}

bool truthy(const json& v) {
  if (v.is_null()) return false;
  if (v.is_string()) return !v.get<std::string>().empty();
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_object() || v.is_array()) return !v.empty();
  return true;
}

json get_or_null(const json& j, const char* key) { return j.is_object() && j.contains(key) ? j[key] : json(); }

// SpecialToken id of a TemplateProcessing piece ("" when the piece is not a special token).
json special_id(const json& piece) {
  if (piece.is_object() && piece.contains("SpecialToken") && piece["SpecialToken"].is_object()) {
    return get_or_null(piece["SpecialToken"], "id");
  }
  return json();
}

json sequence_id(const json& piece) {
  if (piece.is_object() && piece.contains("Sequence") && piece["Sequence"].is_object()) {
    return get_or_null(piece["Sequence"], "id");
  }
  return json();
}

class FlagList {
 public:
  void set(const std::string& typ, bool v) {
    for (auto& [k, old] : flags_) {
      if (k == typ) {
        old = v;
        return;
      }
    }
    flags_.emplace_back(typ, v);
  }
  const std::vector<std::pair<std::string, bool>>& items() const { return flags_; }

 private:
  std::vector<std::pair<std::string, bool>> flags_;
};

// The post_processor analysis of SpecialVocab._try_load_from_tokenizer_json (RobertaProcessing and the
// crude TemplateProcessing reading: leading/trailing special tokens and the pair separator).
void read_post_processor(const json& tokenizer, json& tc, FlagList& add) {
  const json pp = get_or_null(tokenizer, "post_processor");
  if (!pp.is_object()) return;
  const bool have_tc = truthy(tc);
  json special_bos = get_or_null(tc, "bos_token"), special_cls = get_or_null(tc, "cls_token");
  json special_eos = get_or_null(tc, "eos_token"), special_sep = get_or_null(tc, "sep_token");
  if (!truthy(special_bos) && truthy(special_cls) && have_tc) tc["bos_token"] = special_bos = special_cls;
  if (!truthy(special_eos) && truthy(special_sep) && have_tc) tc["eos_token"] = special_eos = special_sep;
  const json processors =
      pp.contains("processors") && pp["processors"].is_array() ? pp["processors"] : json::array({pp});
  for (const json& proc : processors) {
    const std::string type =
        proc.is_object() && proc.contains("type") && proc["type"].is_string() ? proc["type"].get<std::string>() : "";
    if (type == "RobertaProcessing") {
      add.set("bos", true);
      add.set("eos", true);
      add.set("sep", true);
      continue;
    }
    if (type != "TemplateProcessing") continue;
    const json single = proc.contains("single") && proc["single"].is_array() ? proc["single"] : json::array();
    json pair = proc.contains("pair") && proc["pair"].is_array() ? proc["pair"] : json::array();
    json special_first, special_last;
    if (single.size() > 1) {
      special_first = special_id(single.front());
      if (truthy(special_first)) {
        if (!have_tc) {
          special_bos = special_first;
        } else if (special_first != special_bos && special_first != special_cls) {
          if (!truthy(special_bos)) tc["bos_token"] = special_bos = special_first;
          if (!truthy(special_cls)) tc["cls_token"] = special_cls = special_first;
        }
        add.set("bos", special_first == special_bos || special_first == special_cls);
      }
      special_last = special_id(single.back());
      if (truthy(special_last)) {
        if (!have_tc) {
          special_eos = special_last;
        } else if (special_last != special_eos) {
          tc["eos_token"] = special_eos = special_last;
        }
        add.set("eos", special_last == special_eos);
      }
    }
    if (!pair.empty()) {
      const size_t start = truthy(special_first) && special_id(pair.front()) == special_first ? 1 : 0;
      const size_t stop = truthy(special_last) && special_id(pair.back()) == special_last ? 1 : 0;
      if (pair.size() <= start + stop) continue;
      json mid = json::array();
      for (size_t i = start; i < pair.size() - stop; ++i) mid.push_back(pair[i]);
      if (sequence_id(mid.front()) != "A" || sequence_id(mid.back()) != "B" || mid.size() <= 2) continue;
      bool add_sep = false;
      const json e0 = special_id(mid[1]);
      if (truthy(e0) && (e0 == special_sep || e0 == special_eos) && !truthy(special_last)) add_sep = true;
      if (mid.size() == 4) {
        const json e1 = special_id(mid[2]);
        if (truthy(e1) && (e1 == special_sep || e1 == special_eos)) add_sep = true;
      }
      add.set("sep", add_sep);
      if (add_sep && !truthy(special_sep) && have_tc) tc["sep_token"] = special_eos;
    }
  }
}

}  // namespace

Result<std::optional<json>> read_json_if_exists(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<json>{};
  auto text = read_text(path);
  if (!text) return text.error();
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error{path.string() + ": not valid JSON"};
  return std::optional<json>{std::move(j)};
}

Result<HfTokenizer> load_hf_tokenizer(const fs::path& dir, const json& config) {
  const fs::path tp = dir / "tokenizer.json";
  std::error_code ec;
  if (!fs::exists(tp, ec)) return Error{tp.string() + ": missing (the converter needs the Hugging Face tokenizer)"};
  auto text = read_text(tp);
  if (!text) return text.error();
  HfTokenizer t;
  auto vocab = import_hf_tokenizer_json(*text, HfImportOptions{});
  if (!vocab) return Error{tp.string() + ": " + vocab.error().message};
  t.vocab = std::move(vocab).value();
  const json tj = json::parse(*text, nullptr, false);
  const json added = tj.contains("added_tokens") && tj["added_tokens"].is_array() ? tj["added_tokens"] : json::array();
  t.n_vocab_real = static_cast<int64_t>(tj["model"]["vocab"].size() + added.size());

  auto tc_r = read_json_if_exists(dir / "tokenizer_config.json");
  if (!tc_r) return tc_r.error();
  json tc = tc_r->value_or(json());
  FlagList add;
  read_post_processor(tj, tc, add);

  std::vector<std::pair<std::string, uint32_t>> ids;  // type → id, first assignment wins
  auto set_id = [&](const std::string& typ, const json& v) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0) return;
    for (const auto& [k, old] : ids) {
      if (k == typ) return;
    }
    ids.emplace_back(typ, static_cast<uint32_t>(v.get<int64_t>()));
  };
  if (truthy(tc) && tc.is_object()) {
    json alt;
    if (fs::exists(dir / "chat_template.jinja", ec)) {
      auto jt = read_text(dir / "chat_template.jinja");
      if (!jt) return jt.error();
      alt = *jt;
    } else {
      auto ct = read_json_if_exists(dir / "chat_template.json");
      if (!ct) return ct.error();
      if (ct->has_value()) alt = get_or_null(**ct, "chat_template");
    }
    const json chat = tc.contains("chat_template") ? tc["chat_template"] : alt;
    if (chat.is_string() || chat.is_array()) t.chat_template = chat;
    for (const auto& st : kSpecialTypes) {
      const std::string typ = st.typ;
      const json add_entry = get_or_null(tc, ("add_" + typ + "_token").c_str());
      if (add_entry.is_boolean()) add.set(typ, add_entry.get<bool>());
      const json entry = get_or_null(tc, (typ + "_token").c_str());
      std::string content;
      if (entry.is_string()) {
        content = entry.get<std::string>();
      } else if (entry.is_object() && entry.contains("content") && entry["content"].is_string()) {
        content = entry["content"].get<std::string>();
      } else {
        continue;
      }
      for (const json& a : added) {
        if (a.is_object() && a.contains("content") && a["content"] == content) {
          set_id(typ, get_or_null(a, "id"));
          break;
        }
      }
    }
  }
  for (const auto& st : kSpecialTypes) {
    const std::string key = std::string(st.typ) + "_token_id";
    json v = get_or_null(config, key.c_str());
    if (v.is_null() && config.contains("text_config")) v = get_or_null(config["text_config"], key.c_str());
    set_id(st.typ, v);
  }
  for (const auto& [typ, id] : ids) {
    for (const auto& st : kSpecialTypes) {
      if (typ == st.typ && *st.id_key) t.special_ids.emplace_back(st.id_key, id);
    }
  }
  for (const auto& [typ, v] : add.items()) {
    if (const char* k = add_key(typ)) t.add_flags.emplace_back(k, v);
  }
  return t;
}

void set_hf_tokenizer_keys(ModelPlan& plan, const HfTokenizer& t) {
  const TokenizerVocab& v = t.vocab;
  plan.set("tokenizer.ggml.model", GgufValue::str("gemma4"));
  plan.set("tokenizer.ggml.tokens", GgufValue::str_array(v.tokens));
  std::vector<float> scores = v.scores;
  scores.resize(v.tokens.size(), -1000.0f);
  plan.set("tokenizer.ggml.scores", GgufValue::f32_array(scores));
  std::vector<int32_t> types = v.types;
  types.resize(v.tokens.size(), 1);
  plan.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  if (!v.merges.empty()) plan.set("tokenizer.ggml.merges", GgufValue::str_array(v.merges));
  for (const auto& [k, id] : t.special_ids) plan.set(k, GgufValue::u32(id));
  for (const auto& [k, b] : t.add_flags) plan.set(k, GgufValue::boolean(b));
  if (t.chat_template && t.chat_template->is_string()) {
    plan.set("tokenizer.chat_template", GgufValue::str(t.chat_template->get<std::string>()));
  } else if (t.chat_template && t.chat_template->is_array()) {
    std::optional<std::string> dflt;
    std::vector<std::string> names;
    for (const json& c : *t.chat_template) {
      if (!c.is_object() || !c.contains("template") || !c["template"].is_string()) continue;
      std::string name = c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : "";
      for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      if (name.empty()) continue;
      if (name == "default") {
        dflt = c["template"].get<std::string>();
      } else {
        names.push_back(name);
        plan.set("tokenizer.chat_template." + name, GgufValue::str(c["template"].get<std::string>()));
      }
    }
    if (!names.empty()) plan.set("tokenizer.chat_templates", GgufValue::str_array(names));
    if (dflt) plan.set("tokenizer.chat_template", GgufValue::str(*dflt));
  }
  plan.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(false));
  plan.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(true));
}

}  // namespace pocket::convert::detail
