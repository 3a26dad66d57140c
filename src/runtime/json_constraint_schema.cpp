// JSON schema → the automaton nodes JsonValidator walks (see json_constraint.h for the subset).
#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "runtime/json_constraint.h"
#include "text/chat_format.h"

namespace pocket {
namespace {

using nlohmann::json;
using Node = JsonSchema::Node;

constexpr int kMaxProperties = 64;     // declared properties of one object (a bit mask)
constexpr size_t kMaxNodes = 4096;     // schemas in one schema (bounds the compile and check work)
constexpr size_t kMaxLiterals = 1024;  // enum values of one schema
constexpr size_t kInfinite = std::numeric_limits<size_t>::max() / 4;
constexpr size_t kMaxText = size_t{1} << 20;  // longest shortest-instance (longer counts as infinite)
constexpr std::string_view kGemmaQuote = "<|\"|>";

void set_first(Node& n, uint8_t c) { n.first_chars[c >> 6] |= uint64_t{1} << (c & 63); }

// Keywords that only annotate: ignored.
const std::set<std::string> kAnnotations = {
    "title",   "description", "default",  "examples",        "$schema",          "$id",   "$comment",    "format",
    "$anchor", "deprecated",  "readOnly", "contentEncoding", "contentMediaType", "$defs", "definitions", "writeOnly",
    "strict"};
// Keywords that constrain values in ways not enforced here: refused.
const std::set<std::string> kUnsupported = {"pattern",
                                            "minimum",
                                            "maximum",
                                            "exclusiveMinimum",
                                            "exclusiveMaximum",
                                            "multipleOf",
                                            "allOf",
                                            "not",
                                            "if",
                                            "then",
                                            "else",
                                            "patternProperties",
                                            "propertyNames",
                                            "prefixItems",
                                            "contains",
                                            "minContains",
                                            "maxContains",
                                            "uniqueItems",
                                            "dependentRequired",
                                            "dependentSchemas",
                                            "minProperties",
                                            "maxProperties",
                                            "unevaluatedProperties",
                                            "unevaluatedItems",
                                            "additionalItems",
                                            "dependencies"};

}  // namespace

class SchemaCompiler {
 public:
  SchemaCompiler(const json& root, JsonSchema::Syntax syntax)
      : root_(root), gemma_(syntax == JsonSchema::Syntax::kGemma) {
    Node any;
    nodes_.push_back(any);  // node 0: any value (its items and free-key values are node 0 again)
  }

  Result<int> compile(const json& s, const std::string& where) {
    if (s.is_boolean()) {
      if (!s.get<bool>()) return Error{where + ": a false schema allows nothing"};
      return 0;
    }
    if (!s.is_object()) return Error{where + ": expected a schema object"};
    if (s.contains("$ref")) return ref(s, where);
    if (nodes_.size() >= kMaxNodes) return Error{where + ": the schema is too large (more than 4096 schemas)"};
    const int idx = static_cast<int>(nodes_.size());
    nodes_.emplace_back();
    auto st = fill(idx, s, where);
    if (!st) return st.error();
    return idx;
  }

  Result<JsonSchema> finish(int root) {
    first_chars();
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const Node& n = nodes_[i];
      for (size_t a = 0; a < n.branches.size(); ++a) {
        for (size_t b = a + 1; b < n.branches.size(); ++b) {
          const Node& x = nodes_[static_cast<size_t>(n.branches[a])];
          const Node& y = nodes_[static_cast<size_t>(n.branches[b])];
          for (int w = 0; w < 4; ++w) {
            if (x.first_chars[w] & y.first_chars[w]) {
              return Error{"schema: anyOf/oneOf alternatives must start differently (e.g. different types)"};
            }
          }
        }
      }
    }
    min_texts();
    if (len_[static_cast<size_t>(root)] >= kInfinite) {
      return Error{"schema: no finite JSON value satisfies it (none of at most 1 MiB)"};
    }
    JsonSchema out;
    out.nodes_ = std::make_shared<const std::vector<Node>>(std::move(nodes_));
    out.root_ = root;
    out.syntax_ = gemma_ ? JsonSchema::Syntax::kGemma : JsonSchema::Syntax::kJson;
    return out;
  }

 private:
  Result<int> ref(const json& s, const std::string& where) {
    for (const auto& [k, v] : s.items()) {
      if (k != "$ref" && !kAnnotations.count(k)) return Error{where + ": '" + k + "' next to $ref is not supported"};
    }
    if (!s["$ref"].is_string()) return Error{where + ".$ref: expected a string"};
    const std::string r = s["$ref"].get<std::string>();
    if (auto it = refs_.find(r); it != refs_.end()) return it->second;
    if (r.empty() || r[0] != '#') return Error{where + ": only local references (#/...) are supported"};
    const json* target = nullptr;
    try {
      target = &root_.at(json::json_pointer(r.substr(1)));
    } catch (const std::exception&) {
      return Error{where + ": $ref '" + r + "' does not resolve"};
    }
    if (target->is_object() && target->contains("$ref")) {  // a reference to a reference
      if (!resolving_.insert(r).second) return Error{where + ": $ref '" + r + "' refers to itself"};
      auto out = compile(*target, r);
      resolving_.erase(r);
      return out;
    }
    if (nodes_.size() >= kMaxNodes) return Error{where + ": the schema is too large (more than 4096 schemas)"};
    const int idx = static_cast<int>(nodes_.size());
    nodes_.emplace_back();
    refs_[r] = idx;  // before compiling: recursive references find it
    if (target->is_boolean()) {
      if (!target->get<bool>()) return Error{where + ": $ref '" + r + "' is a false schema"};
      return 0;
    }
    if (!target->is_object()) return Error{where + ": $ref '" + r + "' is not a schema"};
    auto st = fill(idx, *target, r);
    if (!st) return st.error();
    return idx;
  }

  static Result<int> count(const json& s, const char* key, const std::string& where) {
    const json& v = s[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0) return Error{where + "." + key + ": expected a count"};
    return static_cast<int>(std::min<int64_t>(v.get<int64_t>(), 1 << 30));
  }

  Result<bool> fill(int idx, const json& s, const std::string& where) {
    Node n;
    n.free_keys = true;
    uint8_t types = 0, hinted = 0;
    for (const auto& [k, v] : s.items()) {
      if (kUnsupported.count(k)) return Error{where + ": '" + k + "' is not supported in response_format schemas"};
    }
    if (s.contains("type")) {
      const json& t = s["type"];
      std::vector<std::string> names;
      if (t.is_string()) {
        names.push_back(t.get<std::string>());
      } else if (t.is_array()) {
        for (const auto& x : t) {
          if (!x.is_string()) return Error{where + ".type: expected type names"};
          names.push_back(x.get<std::string>());
        }
      } else {
        return Error{where + ".type: expected a string or a list"};
      }
      static const std::map<std::string, uint8_t> kTypes = {
          {"null", JsonSchema::kNull},     {"boolean", JsonSchema::kBoolean}, {"integer", JsonSchema::kInteger},
          {"number", JsonSchema::kNumber}, {"string", JsonSchema::kString},   {"array", JsonSchema::kArray},
          {"object", JsonSchema::kObject}};
      for (const auto& name : names) {
        auto it = kTypes.find(name);
        if (it == kTypes.end()) return Error{where + ".type: unknown type '" + name + "'"};
        types |= it->second;
      }
      if (s.value("nullable", false)) types |= JsonSchema::kNull;
    }
    if (s.contains("properties")) {
      const json& props = s["properties"];
      if (!props.is_object()) return Error{where + ".properties: expected an object"};
      if (props.size() > kMaxProperties) return Error{where + ".properties: more than 64 properties"};
      for (const auto& [name, sub] : props.items()) {
        auto child = compile(sub, where + ".properties." + name);
        if (!child) return child.error();
        auto key = key_text(name, where);
        if (!key) return key.error();
        n.keys.push_back(*key);
        n.key_nodes.push_back(*child);
      }
      hinted |= JsonSchema::kObject;
    }
    if (s.contains("required")) {
      const json& req = s["required"];
      if (!req.is_array()) return Error{where + ".required: expected a list of names"};
      for (const auto& r : req) {
        if (!r.is_string()) return Error{where + ".required: expected a list of names"};
        auto key_or = key_text(r.get<std::string>(), where);
        if (!key_or) return key_or.error();
        const std::string key = *key_or;
        auto it = std::find(n.keys.begin(), n.keys.end(), key);
        if (it == n.keys.end()) {
          if (n.keys.size() >= kMaxProperties) return Error{where + ".required: more than 64 properties"};
          n.keys.push_back(key);
          n.key_nodes.push_back(0);
          it = n.keys.end() - 1;
        }
        n.required |= uint64_t{1} << (it - n.keys.begin());
      }
      hinted |= JsonSchema::kObject;
    }
    if (!n.keys.empty()) n.free_keys = false;  // declared properties only (additionalProperties not used)
    if (s.contains("additionalProperties")) {
      const json& a = s["additionalProperties"];
      if (n.keys.empty()) {
        if (a.is_boolean() && !a.get<bool>()) {
          n.free_keys = false;
        } else {
          auto child = compile(a, where + ".additionalProperties");
          if (!child) return child.error();
          n.additional = *child;
        }
      }
      hinted |= JsonSchema::kObject;
    }
    if (s.contains("items")) {
      if (s["items"].is_array()) return Error{where + ".items: a list of schemas is not supported"};
      auto child = compile(s["items"], where + ".items");
      if (!child) return child.error();
      n.items = *child;
      hinted |= JsonSchema::kArray;
    }
    for (const char* key : {"minItems", "maxItems", "minLength", "maxLength"}) {
      if (!s.contains(key)) continue;
      auto c = count(s, key, where);
      if (!c) return c.error();
      const bool items = key[3] == 'I';
      ((key[1] == 'i') ? (items ? n.min_items : n.min_length) : (items ? n.max_items : n.max_length)) = *c;
      hinted |= items ? JsonSchema::kArray : JsonSchema::kString;
    }
    if (s.contains("enum") || s.contains("const")) {
      std::vector<json> values;
      if (s.contains("const")) values.push_back(s["const"]);
      if (s.contains("enum")) {
        if (!s["enum"].is_array() || s["enum"].empty()) return Error{where + ".enum: expected a non-empty list"};
        if (s["enum"].size() > kMaxLiterals) return Error{where + ".enum: more than 1024 values"};
        for (const auto& v : s["enum"]) values.push_back(v);
      }
      for (const auto& v : values) {
        const uint8_t t = v.is_null()             ? JsonSchema::kNull
                          : v.is_boolean()        ? JsonSchema::kBoolean
                          : v.is_number_integer() ? JsonSchema::kInteger | JsonSchema::kNumber
                          : v.is_number()         ? JsonSchema::kNumber
                          : v.is_string()         ? JsonSchema::kString
                          : v.is_array()          ? JsonSchema::kArray
                                                  : JsonSchema::kObject;
        if (types == 0 || (types & t)) n.literals.push_back(gemma_ ? format_tool_value(v) : v.dump());
      }
      if (n.literals.empty()) return Error{where + ".enum: no value has the schema's type"};
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!s.contains(key)) continue;
      const json& alts = s[key];
      if (!alts.is_array() || alts.empty()) return Error{where + "." + key + ": expected a non-empty list"};
      if (types || hinted || !n.literals.empty() || !n.branches.empty()) {
        return Error{where + ": " + key + " combined with other constraints is not supported"};
      }
      for (size_t i = 0; i < alts.size(); ++i) {
        auto child = compile(alts[i], where + "." + key + "[" + std::to_string(i) + "]");
        if (!child) return child.error();
        n.branches.push_back(*child);
      }
    }
    n.types = types ? types : hinted ? hinted : static_cast<uint8_t>(JsonSchema::kAnyType);
    if (n.types & JsonSchema::kNumber) n.types |= JsonSchema::kInteger;
    nodes_[static_cast<size_t>(idx)] = std::move(n);
    return true;
  }

  void first_chars() {
    for (Node& n : nodes_) {
      if (!n.branches.empty()) continue;
      if (!n.literals.empty()) {
        for (const auto& l : n.literals) set_first(n, static_cast<uint8_t>(l[0]));
        continue;
      }
      if (n.types & JsonSchema::kNull) set_first(n, 'n');
      if (n.types & JsonSchema::kBoolean) set_first(n, 't'), set_first(n, 'f');
      if (n.types & JsonSchema::kInteger) {
        set_first(n, '-');
        for (uint8_t c = '0'; c <= '9'; ++c) set_first(n, c);
      }
      if (n.types & JsonSchema::kString) set_first(n, gemma_ ? '<' : '"');
      if (n.types & JsonSchema::kArray) set_first(n, '[');
      if (n.types & JsonSchema::kObject) set_first(n, '{');
    }
    for (bool changed = true; changed;) {  // alternatives of alternatives
      changed = false;
      for (Node& n : nodes_) {
        for (int b : n.branches) {
          for (int w = 0; w < 4; ++w) {
            const uint64_t add = nodes_[static_cast<size_t>(b)].first_chars[w] & ~n.first_chars[w];
            if (add) n.first_chars[w] |= add, changed = true;
          }
        }
      }
    }
  }

  // Shortest instance of each node: lengths by fixed point (schemas may recurse), then the texts.
  size_t node_len(const Node& n) const {
    const size_t l = node_len_unbounded(n);
    return l > kMaxText ? kInfinite : l;
  }
  size_t node_len_unbounded(const Node& n) const {
    auto len = [&](int i) { return len_[static_cast<size_t>(i)]; };
    size_t best = kInfinite;
    for (int b : n.branches) best = std::min(best, len(b));
    if (!n.branches.empty()) return best;
    for (const auto& l : n.literals) best = std::min(best, l.size());
    if (!n.literals.empty()) return best;
    if (n.types & (JsonSchema::kNull | JsonSchema::kBoolean)) best = 4;
    if (n.types & JsonSchema::kInteger) best = 1;
    if ((n.types & JsonSchema::kString) && n.min_length <= n.max_length) {
      best = std::min(best, 2 * quote().size() + static_cast<size_t>(n.min_length));
    }
    if ((n.types & JsonSchema::kArray) && n.min_items <= n.max_items) {
      const size_t k = static_cast<size_t>(n.min_items);
      best = std::min(best, k == 0 ? 2 : len(n.items) >= kInfinite ? kInfinite : 2 + k * (len(n.items) + 1) - 1);
    }
    if (n.types & JsonSchema::kObject) {
      size_t total = 2, members = 0;
      for (size_t i = 0; i < n.keys.size(); ++i) {
        if (!((n.required >> i) & 1)) continue;
        if (len(n.key_nodes[i]) >= kInfinite) return best;
        total += n.keys[i].size() + 1 + len(n.key_nodes[i]) + (members++ ? 1 : 0);
      }
      best = std::min(best, total);
    }
    return best;
  }

  std::string build(int i) {
    const Node& n = nodes_[static_cast<size_t>(i)];
    auto len = [&](int k) { return len_[static_cast<size_t>(k)]; };
    const size_t want = len(i);
    for (int b : n.branches) {
      if (len(b) == want) return build(b);
    }
    for (const auto& l : n.literals) {
      if (l.size() == want) return l;
    }
    if (!n.branches.empty() || !n.literals.empty()) return "";
    if ((n.types & JsonSchema::kInteger) && want == 1) return "0";
    if ((n.types & JsonSchema::kNull) && want == 4) return "null";
    if ((n.types & JsonSchema::kBoolean) && want == 4) return "true";
    if ((n.types & JsonSchema::kString) && n.min_length <= n.max_length &&
        want == 2 * quote().size() + static_cast<size_t>(n.min_length)) {
      return std::string(quote()) + std::string(static_cast<size_t>(n.min_length), 'a') + std::string(quote());
    }
    if ((n.types & JsonSchema::kArray) && n.min_items <= n.max_items) {
      const size_t k = static_cast<size_t>(n.min_items);
      if (k == 0 && want == 2) return "[]";
      if (k > 0 && len(n.items) < kInfinite && want == 2 + k * (len(n.items) + 1) - 1) {
        const std::string item = build(n.items);
        std::string out = "[";
        for (size_t j = 0; j < k; ++j) out += (j ? "," : "") + item;
        return out + "]";
      }
    }
    std::string out = "{";
    for (size_t k = 0; k < n.keys.size(); ++k) {
      if ((n.required >> k) & 1) out += (out.size() > 1 ? "," : "") + n.keys[k] + ":" + build(n.key_nodes[k]);
    }
    return out + "}";
  }

  void min_texts() {
    len_.assign(nodes_.size(), kInfinite);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t i = 0; i < nodes_.size(); ++i) {
        const size_t l = node_len(nodes_[i]);
        if (l < len_[i]) len_[i] = l, changed = true;
      }
    }
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (len_[i] < kInfinite) nodes_[i].min_text = build(static_cast<int>(i));
    }
  }

  std::string_view quote() const { return gemma_ ? kGemmaQuote : std::string_view("\""); }
  // A property name as written: JSON quoted, or bare in Gemma's syntax (which cannot quote it).
  Result<std::string> key_text(const std::string& name, const std::string& where) const {
    if (!gemma_) return json(name).dump();
    if (name.empty() || name.find_first_of(":,{}[] \t\n") != std::string::npos ||
        name.find(kGemmaQuote) != std::string::npos) {
      return Error{where + ": property name '" + name + "' cannot be written in a tool call"};
    }
    return name;
  }

  const json& root_;
  bool gemma_ = false;
  std::vector<Node> nodes_;
  std::map<std::string, int> refs_;
  std::set<std::string> resolving_;
  std::vector<size_t> len_;
};

JsonSchema JsonSchema::any() { return std::move(SchemaCompiler(json::object(), Syntax::kJson).finish(0)).value(); }

JsonSchema JsonSchema::any_object(Syntax syntax) {
  SchemaCompiler c(json::object(), syntax);
  const json schema = {{"type", "object"}};
  auto root = c.compile(schema, "schema");
  return std::move(c.finish(*root)).value();
}

Result<JsonSchema> JsonSchema::compile(const json& schema, Syntax syntax) {
  SchemaCompiler c(schema, syntax);
  auto root = c.compile(schema, "schema");
  if (!root) return root.error();
  return c.finish(*root);
}

}  // namespace pocket
