// general.* metadata of a converted checkpoint, following gguf-py's Metadata (load, heuristics from
// config.json's _name_or_path and the directory name, size_label from the parameter count) and the
// order of Metadata.set_gguf_meta_model.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <regex>
#include <set>
#include <sstream>

#include "convert/hf_internal.h"

namespace pocket::convert::detail {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

bool is_lower_word(const std::string& w) {  // Python str.islower()
  bool cased = false;
  for (unsigned char ch : w) {
    if (std::isupper(ch)) return false;
    if (std::islower(ch)) cased = true;
  }
  return cased;
}

std::string title(const std::string& w) {  // Python str.title() on ASCII
  std::string out;
  bool prev_cased = false;
  for (unsigned char ch : w) {
    const bool cased = std::isalpha(ch) != 0;
    out += static_cast<char>(cased ? (prev_cased ? std::tolower(ch) : std::toupper(ch)) : ch);
    prev_cased = cased;
  }
  return out;
}

bool all_of(const std::string& s, int (*pred)(int)) {
  for (unsigned char ch : s) {
    if (!pred(ch)) return false;
  }
  return !s.empty();
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "-") + s;
  return out;
}

// (total, shared, expert, expert_count) as GGUFWriter.get_total_parameter_count counts them.
struct ParamCount {
  int64_t total = 0, shared = 0, expert = 0, expert_count = 0;
};
ParamCount count_params(const std::vector<PlanTensor>& tensors) {
  ParamCount c;
  int64_t expert_sum = 0, n_expert_tensors = 0;
  for (const auto& t : tensors) {
    const int64_t size = t.n_elements();
    if (t.name.find("_exps.") != std::string::npos && t.ne.size() >= 3) {
      const int64_t e = t.ne[t.ne.size() - 1 - (t.name.find(".bias") != std::string::npos ? 1 : 2)];
      c.expert += size / e;
      expert_sum += e;
      ++n_expert_tensors;
    } else {
      c.shared += size;
    }
    c.total += size;
  }
  c.expert_count = n_expert_tensors > 0 ? expert_sum / n_expert_tensors : 0;
  return c;
}

std::string rounded_notation(int64_t n, int min_digits) {  // model_weight_count_rounded_notation
  double scaled;
  const char* suffix;
  if (n > 1e12) {
    scaled = static_cast<double>(n) * 1e-12, suffix = "T";
  } else if (n > 1e9) {
    scaled = static_cast<double>(n) * 1e-9, suffix = "B";
  } else if (n > 1e6) {
    scaled = static_cast<double>(n) * 1e-6, suffix = "M";
  } else {
    scaled = static_cast<double>(n) * 1e-3, suffix = "K";
  }
  std::string digits = std::to_string(static_cast<int64_t>(std::nearbyint(scaled)));  // Python round(): to even
  digits.erase(0, digits.find_first_not_of('0') == std::string::npos ? digits.size() : digits.find_first_not_of('0'));
  const int fix = std::max(min_digits - static_cast<int>(digits.size()), 0);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f%s", fix, scaled, suffix);
  return buf;
}

}  // namespace

std::string id_to_title(const std::string& id) {
  std::string s = id;
  for (char& ch : s) {
    if (ch == '-') ch = ' ';
  }
  static const std::regex kKeep(R"(^(v\d+(?:\.\d+)*|\d.*)$)");
  std::istringstream words(s);
  std::string w, out;
  while (words >> w) {
    if (!out.empty()) out += ' ';
    out += is_lower_word(w) && !std::regex_match(w, kKeep) ? title(w) : w;
  }
  return out;
}

std::string size_label(int64_t total, int64_t shared, int64_t expert, int64_t expert_count) {
  if (expert_count > 0) {
    return std::to_string(expert_count) + "x" + rounded_notation(std::llabs(shared) + std::llabs(expert), 2);
  }
  return rounded_notation(std::llabs(total), 2);
}

ModelIdParts model_id_components(const std::string& model_id, int64_t total_params) {
  ModelIdParts r;
  if (model_id.find(' ') != std::string::npos) {
    r.name = model_id;
    return r;
  }
  std::string name = model_id;
  if (const size_t slash = model_id.find('/'); slash != std::string::npos) {
    r.org = model_id.substr(0, slash);
    name = model_id.substr(slash + 1);
  }
  if (r.org && !r.org->empty() && (*r.org)[0] == '.') r.org.reset();
  r.name = name;
  std::vector<std::string> parts;
  for (size_t a = 0; a <= name.size();) {
    size_t b = name.find('-', a);
    if (b == std::string::npos) b = name.size();
    if (b > a) parts.push_back(name.substr(a, b - a));
    a = b + 1;
  }
  static const std::regex kVersion(R"((v|iter)?\d+([.]\d+)*)", std::regex::icase);
  static const std::regex kType(R"(i?q\d(_\w)*|b?fp?(16|32))", std::regex::icase);
  static const std::regex kSize(R"((([A]|\d+[x])?\d+([._]\d+)?[KMBT][\d]?|small|mini|medium|large|x?xl))",
                                std::regex::icase);
  static const std::regex kFinetune(R"(chat|instruct|vision|lora)", std::regex::icase);
  std::vector<std::set<std::string>> types(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string part = parts[i];
    if (std::regex_match(part, kVersion)) {
      types[i].insert("version");
    } else if (std::regex_match(part, kType)) {
      types[i].insert("type");
      for (char& ch : parts[i]) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    } else if (i > 0 && std::regex_match(part, kSize)) {
      for (char& ch : part) {
        if (ch == '_') ch = '.';
      }
      if (std::isdigit(static_cast<unsigned char>(part.back())) && part.size() >= 2) {
        part = part.substr(0, part.size() - 2) + "." + part.back() + part[part.size() - 2];
      }
      if (part.size() > 1 && std::isdigit(static_cast<unsigned char>(part[part.size() - 2])) &&
          std::string("kmbt").find(part.back()) != std::string::npos) {
        part.back() = static_cast<char>(std::toupper(static_cast<unsigned char>(part.back())));
      }
      if (total_params != 0) {
        const std::string num = part.substr(0, part.size() - 1);
        char* end = nullptr;
        const double v = std::strtod(num.c_str(), &end);
        const size_t scale = std::string(" KMBT").find(part.back());
        if (!num.empty() && end && *end == '\0' && !std::isspace(static_cast<unsigned char>(num[0]))) {
          const double label = v * std::pow(1000.0, scale == std::string::npos ? -1.0 : static_cast<double>(scale));
          const double t = static_cast<double>(total_params);
          if ((total_params < 0 && label < static_cast<double>(std::llabs(total_params) / 8)) ||
              (total_params > 0 && std::fabs(label - t) > static_cast<double>(7 * total_params / 8))) {
            types[i].insert("finetune");
            part.back() = static_cast<char>(std::tolower(static_cast<unsigned char>(part.back())));
          }
        }
      }
      if (types[i].empty()) types[i].insert("size_label");
      parts[i] = part;
    } else if (i > 0 && std::regex_match(part, kFinetune)) {
      std::string low = part;
      for (char& ch : low) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      types[i].insert(total_params < 0 && low == "lora" ? "type" : "finetune");
    }
  }
  bool numeric_size = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!types[i].count("size_label")) continue;
    for (unsigned char ch : parts[i]) numeric_size = numeric_size || std::isdigit(ch);
  }
  if (numeric_size) {
    for (size_t i = 0; i < parts.size(); ++i) {
      if (types[i].count("size_label") && all_of(parts[i], std::isalpha)) types[i].erase("size_label");
    }
  }
  bool at_start = true;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (at_start &&
        ((types[i].empty() && std::isalpha(static_cast<unsigned char>(parts[i][0]))) || types[i].count("version"))) {
      types[i].insert("basename");
    } else {
      at_start = false;
      if (types[i].empty()) types[i].insert("finetune");
    }
  }
  for (size_t i = parts.size(); i-- > 0;) {
    if (types[i].count("basename") && types[i].size() > 1) {
      types[i].erase("basename");
    } else {
      break;
    }
  }
  std::vector<std::string> basename, sizes, finetune, version;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (types[i].count("basename")) basename.push_back(parts[i]);
    if (types[i].count("size_label") && std::find(sizes.begin(), sizes.end(), parts[i]) == sizes.end()) {
      sizes.push_back(parts[i]);
    }
    if (types[i].count("finetune")) finetune.push_back(parts[i]);
    if (types[i].count("version") && !types[i].count("basename")) version.push_back(parts[i]);
  }
  if (!basename.empty()) r.basename = join(basename);
  if (!sizes.empty()) r.size_label = join(sizes);
  if (!finetune.empty()) r.finetune = join(finetune);
  if (!version.empty()) r.version = join(version);
  if (!r.size_label && !r.finetune && !r.version) r.basename.reset();
  return r;
}

void set_general_keys(ModelPlan& plan, const fs::path& dir, const json& config, const json* gen,
                      const std::vector<PlanTensor>& tensors) {
  plan.set("general.architecture", GgufValue::str("gemma4"));
  plan.set("general.type", GgufValue::str("model"));
  if (gen && gen->is_object()) {
    auto num = [&](const char* k) { return gen->contains(k) && (*gen)[k].is_number(); };
    if (gen->contains("sequence") && (*gen)["sequence"].is_string()) {
      plan.set("general.sampling.sequence", GgufValue::str((*gen)["sequence"].get<std::string>()));
    }
    auto i32 = [&](const char* k, const char* key) {
      if (num(k)) plan.set(key, GgufValue::i32(static_cast<int32_t>((*gen)[k].get<double>())));
    };
    auto f32 = [&](const char* k, const char* key) {
      if (num(k)) plan.set(key, GgufValue::f32(static_cast<float>((*gen)[k].get<double>())));
    };
    i32("top_k", "general.sampling.top_k");
    f32("top_p", "general.sampling.top_p");
    f32("min_p", "general.sampling.min_p");
    f32("xtc_probability", "general.sampling.xtc_probability");
    f32("xtc_threshold", "general.sampling.xtc_threshold");
    f32("temperature", "general.sampling.temp");
    i32("penalty_last_n", "general.sampling.penalty_last_n");
    f32(num("penalty_repeat") ? "penalty_repeat" : "repetition_penalty", "general.sampling.penalty_repeat");
    i32("mirostat", "general.sampling.mirostat");
    f32("mirostat_tau", "general.sampling.mirostat_tau");
    f32("mirostat_eta", "general.sampling.mirostat_eta");
  }
  const ParamCount pc = count_params(tensors);
  ModelIdParts meta;
  auto fill = [&](const ModelIdParts& p) {
    if (!meta.name && p.name) meta.name = id_to_title(*p.name);
    if (!meta.org && p.org) meta.org = id_to_title(*p.org);
    if (!meta.basename) meta.basename = p.basename;
    if (!meta.finetune) meta.finetune = p.finetune;
    if (!meta.version) meta.version = p.version;
    if (!meta.size_label) meta.size_label = p.size_label;
  };
  if (config.contains("_name_or_path") && config["_name_or_path"].is_string()) {
    const std::string id = config["_name_or_path"].get<std::string>();
    if (std::count(id.begin(), id.end(), '/') <= 1) fill(model_id_components(id, pc.total));
  }
  fs::path p = fs::absolute(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  fill(model_id_components(p.filename().string(), pc.total));
  if (!meta.name) meta.name = p.filename().string();
  if (!meta.size_label && pc.total > 0) meta.size_label = size_label(pc.total, pc.shared, pc.expert, pc.expert_count);
  plan.set("general.name", GgufValue::str(*meta.name));
  if (meta.version) plan.set("general.version", GgufValue::str(*meta.version));
  if (meta.org) plan.set("general.organization", GgufValue::str(*meta.org));
  if (meta.finetune) plan.set("general.finetune", GgufValue::str(*meta.finetune));
  if (meta.basename) plan.set("general.basename", GgufValue::str(*meta.basename));
  if (meta.size_label) plan.set("general.size_label", GgufValue::str(*meta.size_label));
}

}  // namespace pocket::convert::detail
