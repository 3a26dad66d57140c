#include "triage/labels.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace pocket::triage {

namespace {

// A label or field name must be usable as a folder name and as a JSON key without surprises.
bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 100 || s[0] == '.' || s[0] == ' ' || s.back() == ' ') return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.' || c == ' ';
    if (!ok) return false;
  }
  return true;
}

class Parser {
 public:
  explicit Parser(std::string name) : name_(std::move(name)) {}

  Error error(const YAML::Node& at, const std::string& key, const std::string& what) const {
    std::string msg = name_;
    const YAML::Mark m = at.Mark();
    if (m.line >= 0) msg.append(":").append(std::to_string(m.line + 1));
    msg.append(": ").append(key).append(": ").append(what);
    return Error{std::move(msg)};
  }

  // A scalar string under `key` of the map `node`; "" when absent and not required.
  Result<std::string> text(const YAML::Node& node, const std::string& key, const std::string& path,
                           bool required) const {
    const YAML::Node v = node[key];
    if (!v || v.IsNull()) {
      if (required) return error(node, path + key, "missing");
      return std::string();
    }
    if (!v.IsScalar()) return error(v, path + key, "must be a text, not a list or map");
    return v.Scalar();
  }

  Status unknown_keys(const YAML::Node& node, const std::string& path, const std::set<std::string>& known) const {
    for (const auto& kv : node) {
      const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
      if (!known.count(k)) {
        std::string list;
        for (const auto& s : known) list += (list.empty() ? "" : ", ") + s;
        return error(kv.first, path + k, "unknown key (expected one of " + list + ")");
      }
    }
    return Status::Ok();
  }

  Result<FieldSpec> field(const YAML::Node& node, const std::string& path) const {
    if (!node.IsMap()) return error(node, path, "must be a map with name, type, description");
    if (Status s = unknown_keys(node, path + ".", {"name", "type", "description"}); !s) return s.error();
    FieldSpec f;
    auto name = text(node, "name", path + ".", true);
    if (!name) return name.error();
    if (!valid_name(*name))
      return error(node["name"], path + ".name", "'" + *name + "' is not a valid name " + kNameRule);
    f.name = *name;
    auto type = text(node, "type", path + ".", false);
    if (!type) return type.error();
    if (type->empty() || *type == "string") {
      f.type = FieldType::kString;
    } else if (*type == "number") {
      f.type = FieldType::kNumber;
    } else if (*type == "date") {
      f.type = FieldType::kDate;
    } else if (*type == "boolean") {
      f.type = FieldType::kBoolean;
    } else {
      return error(node["type"], path + ".type", "'" + *type + "' is not one of string, number, date, boolean");
    }
    auto desc = text(node, "description", path + ".", false);
    if (!desc) return desc.error();
    f.description = *desc;
    return f;
  }

  Result<Category> category(const YAML::Node& node, const std::string& path) const {
    if (!node.IsMap()) return error(node, path, "must be a map with name, description, fields");
    if (Status s = unknown_keys(node, path + ".", {"name", "description", "fields"}); !s) return s.error();
    Category c;
    auto name = text(node, "name", path + ".", true);
    if (!name) return name.error();
    if (!valid_name(*name))
      return error(node["name"], path + ".name", "'" + *name + "' is not a valid name " + kNameRule);
    c.name = *name;
    auto desc = text(node, "description", path + ".", true);
    if (!desc) return desc.error();
    c.description = *desc;
    const YAML::Node fields = node["fields"];
    if (fields && !fields.IsNull()) {
      if (!fields.IsSequence()) return error(fields, path + ".fields", "must be a list");
      std::set<std::string> seen;
      for (size_t i = 0; i < fields.size(); ++i) {
        auto f = field(fields[i], path + ".fields[" + std::to_string(i) + "]");
        if (!f) return f.error();
        if (!seen.insert(f->name).second) {
          return error(fields[i], path + ".fields[" + std::to_string(i) + "].name", "'" + f->name + "' appears twice");
        }
        c.fields.push_back(std::move(f).value());
      }
    }
    return c;
  }

  Result<LabelSet> labels(const YAML::Node& root) const {
    if (!root.IsMap()) return error(root, "top level", "must be a map with categories (and optionally policy, flags)");
    if (Status s = unknown_keys(root, "", {"categories", "policy", "flags"}); !s) return s.error();
    LabelSet set;
    const YAML::Node cats = root["categories"];
    if (!cats) return error(root, "categories", "missing");
    if (!cats.IsSequence() || cats.size() == 0) return error(cats, "categories", "must be a non-empty list");
    std::set<std::string> seen;
    for (size_t i = 0; i < cats.size(); ++i) {
      const std::string path = "categories[" + std::to_string(i) + "]";
      auto c = category(cats[i], path);
      if (!c) return c.error();
      if (!seen.insert(c->name).second) return error(cats[i], path + ".name", "'" + c->name + "' appears twice");
      set.categories.push_back(std::move(c).value());
    }
    auto policy = text(root, "policy", "", false);
    if (!policy) return policy.error();
    set.policy = *policy;
    const YAML::Node flags = root["flags"];
    if (flags && !flags.IsNull()) {
      if (!flags.IsSequence()) return error(flags, "flags", "must be a list of names");
      for (size_t i = 0; i < flags.size(); ++i) {
        const std::string path = "flags[" + std::to_string(i) + "]";
        if (!flags[i].IsScalar() || !valid_name(flags[i].Scalar())) {
          return error(flags[i], path, "must be a name " + std::string(kNameRule));
        }
        set.flags.push_back(flags[i].Scalar());
      }
      if (set.policy.empty()) return error(flags, "flags", "given without a policy saying when to raise them");
    }
    return set;
  }

  static constexpr const char* kNameRule = "(letters, digits, space, _ . -; not starting with . or space; ≤ 100)";

 private:
  std::string name_;
};

}  // namespace

const char* field_type_name(FieldType t) {
  switch (t) {
    case FieldType::kString:
      return "string";
    case FieldType::kNumber:
      return "number";
    case FieldType::kDate:
      return "date";
    case FieldType::kBoolean:
      return "boolean";
  }
  return "string";
}

const Category* LabelSet::find(const std::string& name) const {
  for (const Category& c : categories) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

nlohmann::json LabelSet::fields_schema(const Category& category) const {
  nlohmann::json props = nlohmann::json::object();
  nlohmann::json required = nlohmann::json::array();
  for (const FieldSpec& f : category.fields) {
    nlohmann::json s;
    switch (f.type) {
      case FieldType::kString:
        s = {{"type", {"string", "null"}}, {"maxLength", 100}};
        break;
      case FieldType::kNumber:
        s = {{"type", {"number", "null"}}};
        break;
      case FieldType::kDate:
        s = {{"type", {"string", "null"}}, {"minLength", 10}, {"maxLength", 10}, {"format", "date"}};
        break;
      case FieldType::kBoolean:
        s = {{"type", {"boolean", "null"}}};
        break;
    }
    if (!f.description.empty()) s["description"] = f.description;
    props[f.name] = std::move(s);
    required.push_back(f.name);
  }
  return {{"type", "object"}, {"properties", props}, {"required", required}, {"additionalProperties", false}};
}

nlohmann::json LabelSet::flags_schema() const {
  nlohmann::json item = {{"type", "string"}};
  if (flags.empty()) {
    item["maxLength"] = 40;
  } else {
    item["enum"] = flags;
  }
  return {{"type", "object"},
          {"properties", {{"flags", {{"type", "array"}, {"items", item}, {"maxItems", 8}}}}},
          {"required", {"flags"}},
          {"additionalProperties", false}};
}

Result<LabelSet> parse_labels(const std::string& yaml_text, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Error{name + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg};
  }
  try {
    return Parser(name).labels(root);
  } catch (const YAML::Exception& e) {
    return Error{name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg};
  }
}

Result<LabelSet> load_labels(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open the labels file"};
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error{path + ": cannot read the labels file"};
  return parse_labels(ss.str(), path);
}

}  // namespace pocket::triage
