// JSON constrained decoding: the byte-level validator against nlohmann's parser, shortest completions,
// schema compilation errors, and JsonConstraint picking tokens from a small vocabulary with random
// logits (every output parses and matches its schema, also when the token budget forces it to close).
#include "runtime/json_constraint.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "text/chat_format.h"
#include "text/tokenizer.h"

namespace pocket {
namespace {

using nlohmann::json;

// A checker for the schema subset, written independently of the validator.
bool matches(const json& v, const json& s, const json& root) {
  if (s.is_boolean()) return s.get<bool>();
  if (s.contains("$ref")) return matches(v, root.at(json::json_pointer(s["$ref"].get<std::string>().substr(1))), root);
  for (const char* k : {"anyOf", "oneOf"}) {
    if (!s.contains(k)) continue;
    int n = 0;
    for (const auto& alt : s[k]) n += matches(v, alt, root);
    if (k[0] == 'a' ? n == 0 : n != 1) return false;
  }
  if (s.contains("enum") && std::find(s["enum"].begin(), s["enum"].end(), v) == s["enum"].end()) return false;
  if (s.contains("const") && v != s["const"]) return false;
  if (s.contains("type")) {
    std::vector<std::string> types;
    if (s["type"].is_string())
      types.push_back(s["type"]);
    else
      for (const auto& t : s["type"]) types.push_back(t);
    bool ok = false;
    for (const auto& t : types) {
      ok = ok || (t == "null" && v.is_null()) || (t == "boolean" && v.is_boolean()) ||
           (t == "integer" && v.is_number_integer()) || (t == "number" && v.is_number()) ||
           (t == "string" && v.is_string()) || (t == "array" && v.is_array()) || (t == "object" && v.is_object());
    }
    if (!ok) return false;
  }
  if (v.is_object()) {
    for (const auto& r : s.value("required", json::array())) {
      if (!v.contains(r.get<std::string>())) return false;
    }
    const json props = s.value("properties", json::object());
    for (const auto& [k, x] : v.items()) {
      if (props.contains(k)) {
        if (!matches(x, props[k], root)) return false;
      } else if (s.contains("additionalProperties") && !matches(x, s["additionalProperties"], root)) {
        return false;
      }
    }
  }
  if (v.is_array()) {
    if (v.size() < s.value("minItems", 0u) || v.size() > s.value("maxItems", 1000000u)) return false;
    for (const auto& x : v) {
      if (s.contains("items") && !matches(x, s["items"], root)) return false;
    }
  }
  if (v.is_string()) {
    // Code points (the schema counts characters).
    size_t n = 0;
    for (unsigned char c : v.get<std::string>()) n += (c & 0xC0) != 0x80;
    if (n < s.value("minLength", 0u) || n > s.value("maxLength", 1000000u)) return false;
  }
  return true;
}

JsonSchema compile(const json& s) {
  auto r = JsonSchema::compile(s);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : JsonSchema::any();
}

bool accepts(const JsonSchema& s, std::string_view text) {
  JsonValidator v(s);
  return v.push(text) && v.can_end();
}

const json kPerson = json::parse(R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 12},
    "age": {"type": "integer"},
    "mood": {"enum": ["happy", "sad", 3, null]},
    "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
    "pet": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {"kind": {"type": "string"}},
            "required": ["kind"]}]},
    "score": {"type": ["number", "boolean"]}
  },
  "required": ["name", "age", "tags"]
})");

TEST(JsonValidator, AcceptsValidJsonAndRefusesTheFirstBadByte) {
  const JsonSchema any = JsonSchema::any();
  for (const char* ok : {"{}", "[]", "0", "-0.5e+3", "\"a\\u00e9\\uD83D\\uDE00\\n\"", "true", "null",
                         "{\"a\": [1, 2, {\"b\": null}], \"c\": \"\xC3\xA9\"}", " [ ]", "12", "1E09"}) {
    EXPECT_TRUE(accepts(any, ok)) << ok;
    EXPECT_FALSE(json::parse(ok, nullptr, false).is_discarded()) << ok;
  }
  for (const char* bad : {"{,}", "[1,]", "01", "-", "\"\\x\"", "\"\\uDE00\"", "\"\\uD83D\"x", "tru e", "{\"a\" 1}",
                          "\"\x01\"", "\"\xC0\xAF\"", "[] ", "1e400", "\"\xED\xA0\x80\"", "[1 2]", "{} {}", "nul"}) {
    JsonValidator v(any);
    EXPECT_FALSE(v.push(bad) && v.can_end()) << bad;
  }
  JsonValidator v(any);
  EXPECT_TRUE(v.push("{\"a\":1}"));
  EXPECT_TRUE(v.complete());
  EXPECT_FALSE(v.push(" "));  // nothing after the value
}

TEST(JsonValidator, EnforcesTheSchema) {
  const JsonSchema s = compile(kPerson);
  EXPECT_TRUE(accepts(s, R"({"name":"Ann","age":3,"tags":["x"]})"));
  EXPECT_TRUE(accepts(s, R"({"tags":["x","y"],"mood":3,"age":-1,"name":"B","pet":{"kind":"cat"},"score":true})"));
  EXPECT_TRUE(accepts(s, R"({"name":"Ann","age":3,"tags":["x"],"pet":null,"mood":null,"score":1.5})"));
  for (const char* bad : {R"({"name":"Ann","age":3})",                           // tags missing
                          R"({"name":"","age":3,"tags":["x"]})",                 // minLength
                          R"({"name":"abcdefghijklm","age":3,"tags":["x"]})",    // maxLength
                          R"({"name":"A","age":3.5,"tags":["x"]})",              // integer
                          R"({"name":"A","age":3,"tags":[]})",                   // minItems
                          R"({"name":"A","age":3,"tags":["a","b","c","d"]})",    // maxItems
                          R"({"name":"A","age":3,"tags":["x"],"mood":"glad"})",  // enum
                          R"({"name":"A","age":3,"tags":["x"],"other":1})",      // undeclared property
                          R"({"name":"A","name":"B","age":3,"tags":["x"]})",     // repeated property
                          R"({"name":"A","age":3,"tags":["x"],"pet":{}})",       // pet.kind required
                          R"({"name":"A","age":3,"tags":["x"],"score":"1"})",    // type list
                          R"([])"}) {
    EXPECT_FALSE(accepts(s, bad)) << bad;
  }
}

TEST(JsonValidator, CompletionIsShortestAndValid) {
  const JsonSchema s = compile(kPerson);
  JsonValidator v(s);
  EXPECT_EQ(v.completion(), R"({"age":0,"name":"a","tags":[""]})");
  ASSERT_TRUE(v.push(R"({"na)"));
  EXPECT_EQ(v.completion(), R"(me":"a","age":0,"tags":[""]})");
  ASSERT_TRUE(v.push(R"(me":"\uD83)"));
  EXPECT_EQ(v.completion(), R"(0\uDC00","age":0,"tags":[""]})");
  EXPECT_EQ(v.completion_length(), v.completion().size());
  JsonValidator n(JsonSchema::any());
  ASSERT_TRUE(n.push("[1.5e"));
  EXPECT_EQ(n.completion(), "0]");
}

// Random documents: at each step a random byte the validator accepts; then the completion. Every result
// must parse and match the schema.
TEST(JsonValidator, RandomPrefixesCompleteToValidDocuments) {
  const std::vector<json> schemas = {kPerson,
                                     json::parse(R"({"type":"object"})"),
                                     json::parse(R"({"type":"array","items":{"$ref":"#/$defs/tree"},"minItems":2,
                      "$defs":{"tree":{"type":"object","properties":{"v":{"type":"integer"},
                      "kids":{"type":"array","items":{"$ref":"#/$defs/tree"}}},"required":["v"]}}})"),
                                     json::parse(R"({"enum":["a","ab",12,123,true,{"x":[1]}]})"),
                                     json::parse(R"({"type":"string","minLength":3})"),
                                     json::parse(R"({"type":"object","additionalProperties":{"type":"boolean"}})")};
  const std::string alphabet = "{}[]\":,0123456789-+.eE truefalsnlabcxyzkidvgmpo\\u\xC3\xA9\xF0\x9F\x98\x80\n";
  std::mt19937 rng(7);
  for (const json& schema : schemas) {
    const JsonSchema s = compile(schema);
    for (int trial = 0; trial < 300; ++trial) {
      JsonValidator v(s);
      std::string text;
      const int steps = static_cast<int>(rng() % 60);
      for (int i = 0; i < steps && !v.complete(); ++i) {
        std::vector<char> ok;
        for (char c : alphabet) {
          JsonValidator w = v;
          if (w.push(std::string_view(&c, 1))) ok.push_back(c);
        }
        if (ok.empty()) break;
        const char c = ok[rng() % ok.size()];
        ASSERT_TRUE(v.push(std::string_view(&c, 1)));
        text += c;
      }
      const std::string done = text + v.completion();
      JsonValidator w(s);
      ASSERT_TRUE(w.push(done) && w.can_end()) << schema << "\n" << done;
      const json parsed = json::parse(done, nullptr, false);
      ASSERT_FALSE(parsed.is_discarded()) << done;
      EXPECT_TRUE(matches(parsed, schema, schema)) << schema << "\n" << done;
    }
  }
}

TEST(JsonSchema, RefusesWhatItCannotEnforce) {
  for (const auto& [schema, word] : std::vector<std::pair<const char*, const char*>>{
           {R"({"type":"string","pattern":"^a"})", "pattern"},
           {R"({"properties":{"n":{"type":"integer","minimum":1}}})", "minimum"},
           {R"({"allOf":[{"type":"string"}]})", "allOf"},
           {R"({"anyOf":[{"type":"string"},{"enum":["x"]}]})", "anyOf"},
           {R"({"type":"strange"})", "strange"},
           {R"({"$ref":"#/nowhere"})", "nowhere"},
           {R"({"type":"array","items":{"type":"string","minLength":1000},"minItems":100000})", "finite"},
           {R"({"$ref":"#/$defs/a","$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}}})", "itself"},
           {R"({"$ref":"#/$defs/a","$defs":{"a":{"type":"array","items":{"$ref":"#/$defs/a"},"minItems":1}}})",
            "finite"}}) {
    auto r = JsonSchema::compile(json::parse(schema));
    ASSERT_FALSE(r.ok()) << schema;
    EXPECT_NE(r.error().message.find(word), std::string::npos) << r.error().message;
  }
}

// A small vocabulary: specials, the 256 byte tokens, and multi-byte pieces that straddle JSON syntax.
Tokenizer small_tokenizer() {
  TokenizerVocab v;
  auto add = [&](const std::string& t, int32_t type) {
    v.tokens.push_back(t);
    v.types.push_back(type);
    return static_cast<int32_t>(v.tokens.size()) - 1;
  };
  v.pad = add("<pad>", 3);
  v.eos = add("<eos>", 3);
  v.bos = add("<bos>", 3);
  add("<turn|>", 3);
  static const char* hex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) add(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">", 6);
  add("<|\"|>", 4);  // Gemma's tool-syntax quote and call end (user-defined tokens)
  add("<tool_call|>", 4);
  for (const char* t : {"{\"",   "\":",  "\",\"", "\"}", "true", "false", "null",  "name", "age", "tags",
                        "▁the",  "▁cat", "12",    "3.",  "\"]",  "[\"",   "},{\"", "]}",   "▁",   "mood",
                        "happy", "sad",  ",\"",   "\\n", "\\u",  "é",     "😀",     "▁{",   "}\n"}) {
    add(t, 1);
  }
  auto t = Tokenizer::from_vocab(v);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return std::move(t).value();
}

TEST(JsonConstraint, RandomLogitsAlwaysGiveValidJson) {
  const Tokenizer tok = small_tokenizer();
  auto texts = std::make_shared<const TokenTexts>(tok);
  std::mt19937 rng(11);
  std::normal_distribution<float> noise(0.0f, 3.0f);
  const std::vector<json> schemas = {kPerson, json::parse(R"({"type":"object"})"),
                                     json::parse(R"({"type":"array","items":{"type":"number"}})")};
  for (const json& schema : schemas) {
    for (int trial = 0; trial < 40; ++trial) {
      JsonConstraint c(compile(schema), texts);
      SamplingParams p = trial % 2 ? SamplingParams::greedy() : SamplingParams::gemma_defaults();
      p.seed = static_cast<uint64_t>(trial);
      Sampler sampler(p);
      const int budget = 40 + trial;  // tokens; the constraint must close the value within it
      std::vector<int32_t> ids;
      std::string out;
      std::vector<float> logits(static_cast<size_t>(tok.n_vocab()));
      while (!c.complete() && static_cast<int>(ids.size()) < budget) {
        for (float& x : logits) x = noise(rng);
        const int32_t id = c.pick(sampler, logits, ids, budget - static_cast<int>(ids.size()));
        if (id < 0 || tok.is_end_of_generation(id)) break;
        ids.push_back(id);
        out += texts->text(id);
      }
      const json parsed = json::parse(out, nullptr, false);
      ASSERT_FALSE(parsed.is_discarded()) << schema << "\n" << out;
      EXPECT_TRUE(matches(parsed, schema, schema)) << out;
      EXPECT_EQ(out, tok.decode(ids));
    }
  }
}

TEST(JsonConstraint, GreedyTakesTheBestAllowedToken) {
  const Tokenizer tok = small_tokenizer();
  auto texts = std::make_shared<const TokenTexts>(tok);
  JsonConstraint c(JsonSchema::any_object(), texts);
  Sampler sampler(SamplingParams::greedy());
  std::vector<float> logits(static_cast<size_t>(tok.n_vocab()), 0.0f);
  const auto cat = tok.find("▁cat"), brace = tok.find("{\"");
  ASSERT_TRUE(cat && brace);
  logits[static_cast<size_t>(*cat)] = 9.0f;    // best, but not JSON
  logits[static_cast<size_t>(*brace)] = 5.0f;  // second best: allowed
  EXPECT_EQ(c.pick(sampler, logits, {}, 100), *brace);
  EXPECT_EQ(c.last_checked(), 2u);  // checked in logit order, stopped at the first allowed one
}

TEST(JsonValidator, GemmaToolSyntax) {
  auto r = JsonSchema::compile(kPerson, JsonSchema::Syntax::kGemma);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const JsonSchema s = std::move(r).value();
  EXPECT_TRUE(accepts(s, R"({name:<|"|>A <b> "c"<|"|>,age:3,tags:[<|"|>x<|"|>],mood:<|"|>sad<|"|>})"));
  EXPECT_TRUE(accepts(s, "{age:1,name:<|\"|>ab\ncd<|\"<|\"|>,tags:[<|\"|><<|\"|>]}"));
  EXPECT_FALSE(accepts(s, R"({"name":"A","age":3,"tags":["x"]})"));  // JSON spelling
  EXPECT_FALSE(accepts(s, R"({name:<|"|>A<|"|>,age:3,tags:[<|"|>x<|"|>],mood:<|"|>glad<|"|>})"));
  JsonValidator v(s);
  EXPECT_EQ(v.completion(), R"({age:0,name:<|"|>a<|"|>,tags:[<|"|><|"|>]})");
  ASSERT_TRUE(v.push("{name:<|\"|>ab<|"));
  EXPECT_EQ(v.completion(), R"("|>,age:0,tags:[<|"|><|"|>]})");
  // Random documents, completed, read back by the tool-call parser.
  std::mt19937 rng(5);
  const std::string alphabet = "{}[],:<|\">0123456789-.e truefalsnagemdoctsxyz\n\xC3\xA9";
  for (int trial = 0; trial < 300; ++trial) {
    JsonValidator w(s);
    std::string text;
    for (int i = 0, n = static_cast<int>(rng() % 80); i < n && !w.complete(); ++i) {
      std::vector<char> ok;
      for (char c : alphabet) {
        JsonValidator x = w;
        if (x.push(std::string_view(&c, 1))) ok.push_back(c);
      }
      if (ok.empty()) break;
      const char c = ok[rng() % ok.size()];
      ASSERT_TRUE(w.push(std::string_view(&c, 1)));
      text += c;
    }
    const std::string done = text + w.completion();
    auto parsed = parse_tool_value(done);
    ASSERT_TRUE(parsed.ok()) << done << "\n" << parsed.error().message;
    EXPECT_TRUE(matches(*parsed, kPerson, kPerson)) << done;
  }
}

TEST(ToolCallConstraint, RandomLogitsGiveAParseableCallOfADeclaredTool) {
  const Tokenizer tok = small_tokenizer();
  auto texts = std::make_shared<const TokenTexts>(tok);
  const json weather = json::parse(R"({"type":"object","properties":{"city":{"type":"string","maxLength":12},
                                       "days":{"type":"integer"}},"required":["city","days"]})");
  auto compile_gemma = [](const json& schema) {
    return std::move(JsonSchema::compile(schema, JsonSchema::Syntax::kGemma)).value();
  };
  std::mt19937 rng(13);
  std::normal_distribution<float> noise(0.0f, 3.0f);
  for (int trial = 0; trial < 60; ++trial) {
    const bool named = trial % 2 == 0;
    std::vector<ToolCallConstraint::Tool> tools;
    tools.reserve(2);
    tools.push_back({"get_weather", compile_gemma(weather)});
    if (!named) tools.push_back({"age", compile_gemma(kPerson)});
    ToolCallConstraint c(std::move(tools), named, texts);
    Sampler sampler(trial % 3 ? SamplingParams::gemma_defaults() : SamplingParams::greedy());
    const int budget = 60 + trial;
    std::vector<int32_t> ids;
    std::vector<float> logits(static_cast<size_t>(tok.n_vocab()));
    std::string out = named ? "<|tool_call>call:get_weather{" : "<|tool_call>call:";
    while (!c.complete() && static_cast<int>(ids.size()) < budget) {
      for (float& x : logits) x = noise(rng);
      const int32_t id = c.pick(sampler, logits, ids, budget - static_cast<int>(ids.size()));
      ASSERT_GE(id, 0);
      ids.push_back(id);
      out += texts->text(id);
    }
    ASSERT_TRUE(c.complete()) << out;
    auto parsed = parse_model_output(out);
    ASSERT_TRUE(parsed.ok()) << out << "\n" << parsed.error().message;
    ASSERT_EQ(parsed->tool_calls.size(), 1u) << out;
    const ToolCall& call = parsed->tool_calls[0];
    EXPECT_TRUE(matches(call.arguments, call.name == "age" ? kPerson : weather, kPerson)) << out;
    if (named) {
      EXPECT_EQ(call.name, "get_weather");
    }
  }
}

}  // namespace
}  // namespace pocket
