// Chat format: parsing of model output (thoughts, tool calls), the native value syntax and its round
// trip, render_chat's refusals and per-model options. Byte-exactness of render_chat against the real
// template is proven by tests/chat (ctest -L chat).
#include "text/chat_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "format/gguf.h"
#include "text/chat_options.h"

namespace pocket {
namespace {

using nlohmann::json;

// ---- parse_model_output -----------------------------------------------------------------------

TEST(ChatParse, PlainAnswerIsTrimmedAndLosesEndMarkers) {
  auto r = parse_model_output("  The answer is 4.  <turn|>");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->content, "The answer is 4.");
  EXPECT_TRUE(r->thinking.empty());
  EXPECT_TRUE(r->tool_calls.empty());
}

TEST(ChatParse, ThoughtIsSeparatedFromTheAnswer) {
  auto r = parse_model_output("<|channel>thought\nLet me add.\n2+2=4<channel|>It is 4.<turn|>");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->thinking, "Let me add.\n2+2=4");
  EXPECT_EQ(r->content, "It is 4.");
}

TEST(ChatParse, EmptyThoughtBlockYieldsNoThinking) {
  auto r = parse_model_output("<|channel>thought\n<channel|>Direct answer.");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->thinking, "");
  EXPECT_EQ(r->content, "Direct answer.");
}

TEST(ChatParse, UnterminatedThoughtRunsToTheEnd) {
  auto r = parse_model_output("<|channel>thought\nStill thinking when the budget ran");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->thinking, "Still thinking when the budget ran");
  EXPECT_EQ(r->content, "");
}

TEST(ChatParse, SeveralThoughtsAreJoined) {
  auto r = parse_model_output("<|channel>thought\na<channel|>x <|channel>thought\nb<channel|> y");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->thinking, "a\nb");
  EXPECT_EQ(r->content, "x  y");
}

TEST(ChatParse, MultipleToolCallsInOrder) {
  auto r = parse_model_output(
      "<|channel>thought\nneed two tools<channel|>"
      "<|tool_call>call:get_weather{location:<|\"|>Paris<|\"|>,unit:<|\"|>celsius<|\"|>}<tool_call|>"
      "<|tool_call>call:get_time{city:<|\"|>Paris<|\"|>}<tool_call|><|tool_response>");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->thinking, "need two tools");
  EXPECT_EQ(r->content, "");
  ASSERT_EQ(r->tool_calls.size(), 2u);
  EXPECT_EQ(r->tool_calls[0].name, "get_weather");
  EXPECT_EQ(r->tool_calls[0].arguments, (json{{"location", "Paris"}, {"unit", "celsius"}}));
  EXPECT_EQ(r->tool_calls[1].name, "get_time");
  EXPECT_EQ(r->tool_calls[1].arguments, (json{{"city", "Paris"}}));
}

TEST(ChatParse, NestedArguments) {
  auto r = parse_model_output(
      "<|tool_call>call:create{attendees:[{email:<|\"|>a@b.c<|\"|>,optional:false},{email:<|\"|>d@e.f<|\"|>}],"
      "geo:{lat:48.85,lon:-2.35e-1},n:3,note:null,tags:[],title:<|\"|>Sync: {weekly}, [team]<|\"|>}<tool_call|>");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->tool_calls.size(), 1u);
  const json want = json::parse(R"({"attendees":[{"email":"a@b.c","optional":false},{"email":"d@e.f"}],
      "geo":{"lat":48.85,"lon":-0.235},"n":3,"note":null,"tags":[],"title":"Sync: {weekly}, [team]"})");
  EXPECT_EQ(r->tool_calls[0].arguments, want);
}

TEST(ChatParse, ToolCallTextAroundIsContent) {
  auto r = parse_model_output("Checking. <|tool_call>call:ping{}<tool_call|> Done.");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->content, "Checking.  Done.");
  ASSERT_EQ(r->tool_calls.size(), 1u);
  EXPECT_EQ(r->tool_calls[0].arguments, json::object());
}

TEST(ChatParse, CallCutOffBeforeItsClosingMarkerIsAccepted) {
  auto r = parse_model_output("<|tool_call>call:f{a:1}");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->tool_calls.size(), 1u);
  EXPECT_EQ(r->tool_calls[0].arguments, (json{{"a", 1}}));
}

TEST(ChatParse, StringMayContainTheClosingMarker) {
  auto r = parse_model_output("<|tool_call>call:echo{text:<|\"|>a <tool_call|> b<|\"|>}<tool_call|>");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->tool_calls.size(), 1u);
  EXPECT_EQ(r->tool_calls[0].arguments["text"], "a <tool_call|> b");
}

TEST(ChatParse, MalformedCallsAreErrors) {
  const char* bad[] = {
      "<|tool_call>get_weather{}<tool_call|>",         // no "call:"
      "<|tool_call>call:get_weather<tool_call|>",      // no arguments
      "<|tool_call>call:{a:1}<tool_call|>",            // no name
      "<|tool_call>call:f{a:<|\"|>open}<tool_call|>",  // unterminated string
      "<|tool_call>call:f{a:1<tool_call|>",            // unterminated object
      "<|tool_call>call:f{a:1,}<tool_call|>",          // missing key
      "<|tool_call>call:f{a 1}<tool_call|>",           // missing ':'
      "<|tool_call>call:f{a:[1 2]}<tool_call|>",       // missing ','
      "<|tool_call>call:f{a:@}<tool_call|>",           // bad value
      "<|tool_call>call:f{a:1e}<tool_call|>",          // bad number
      "<|tool_call>call:f{a:1} trailing<tool_call|>",  // text after the arguments
      "<|tool_call>call:f{a:truex}<tool_call|>",       // not a keyword
      "<|tool_call>call:f{",                           // cut off
  };
  for (const char* text : bad) {
    auto r = parse_model_output(text);
    EXPECT_FALSE(r.ok()) << text;
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find("tool call"), std::string::npos) << r.error().message;
    }
  }
}

TEST(ChatParse, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = "<|tool_call>call:f{a:" + std::string(5000, '[') + std::string(5000, ']') + "}<tool_call|>";
  EXPECT_FALSE(parse_model_output(deep).ok());
}

TEST(ChatParse, RandomGarbageNeverCrashes) {
  const std::string_view pieces[] = {"<|tool_call>",
                                     "<tool_call|>",
                                     "call:",
                                     "f",
                                     "{",
                                     "}",
                                     "[",
                                     "]",
                                     ":",
                                     ",",
                                     "<|\"|>",
                                     "1",
                                     "-",
                                     ".",
                                     "e",
                                     "true",
                                     "null",
                                     " ",
                                     "<|channel>",
                                     "thought\n",
                                     "<channel|>",
                                     "<turn|>",
                                     "x",
                                     "\xff"};
  std::mt19937 rng(1234);
  for (int iter = 0; iter < 5000; ++iter) {
    std::string text;
    const int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) text += pieces[rng() % std::size(pieces)];
    auto r = parse_model_output(text);  // either outcome is fine; it must return
    if (r.ok()) {
      for (const auto& c : r->tool_calls) EXPECT_TRUE(c.arguments.is_object());
    }
    (void)parse_tool_value(text);
  }
}

// ---- parse_tool_value / format_tool_value -----------------------------------------------------

TEST(ChatToolValue, ParsesScalarsAndQuotedKeys) {
  EXPECT_EQ(parse_tool_value("42").value(), json(42));
  EXPECT_EQ(parse_tool_value(" -1.5e3 ").value(), json(-1500.0));
  EXPECT_EQ(parse_tool_value("true").value(), json(true));
  EXPECT_EQ(parse_tool_value("null").value(), json(nullptr));
  EXPECT_EQ(parse_tool_value("<|\"|><|\"|>").value(), json(""));
  EXPECT_EQ(parse_tool_value("{<|\"|>a key<|\"|>:1, b : [ 1 , 2 ] }").value(), (json{{"a key", 1}, {"b", {1, 2}}}));
  EXPECT_FALSE(parse_tool_value("").ok());
  EXPECT_FALSE(parse_tool_value("1 2").ok());
  EXPECT_FALSE(parse_tool_value("+1").ok());
}

TEST(ChatToolValue, FormatsLikeTheTemplate) {
  const json v = json::parse(R"({"z":[1,"s",true,null,{"b":2,"a":1}],"B":false,"a":-3,"_":{}})");
  EXPECT_EQ(format_tool_value(v), "{_:{},a:-3,B:false,z:[1,<|\"|>s<|\"|>,true,null,{a:1,b:2}]}");
  EXPECT_EQ(format_tool_value(v["z"][4], /*quote_keys=*/true), "{<|\"|>a<|\"|>:1,<|\"|>b<|\"|>:2}");
}

TEST(ChatToolValue, FloatsPrintAsPythonRepr) {
  const std::pair<double, const char*> cases[] = {
      {2.0, "2.0"},
      {0.1, "0.1"},
      {-0.0, "-0.0"},
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {1.5e16, "1.5e+16"},
      {0.0001, "0.0001"},
      {1e-05, "1e-05"},
      {1e-07, "1e-07"},
      {123456789.125, "123456789.125"},
      {3.14159265358979, "3.14159265358979"},
      {1e300, "1e+300"},
      {5e-324, "5e-324"},
      {-2.5e-10, "-2.5e-10"},
  };
  for (const auto& [d, want] : cases) EXPECT_EQ(format_tool_value(json(d)), want) << d;
}

json random_value(std::mt19937& rng, int depth) {
  static const std::string alphabet[] = {
      "a",  "Z",  "0", " ",    ",", ":", "{", "}",    "[",    "]",  "\"",           "'",
      "\\", "\n", "é", "日本", "✓", "<", ">", "null", "true", "-1", "<tool_call|>", "<|channel>"};
  const int kind = static_cast<int>(rng() % (depth > 3 ? 6 : 8));
  switch (kind) {
    case 0:
      return nullptr;
    case 1:
      return rng() % 2 == 0;
    case 2:
      return static_cast<int64_t>(rng()) - (int64_t{1} << 31);
    case 3: {  // any finite double, from raw bits
      uint64_t bits = (uint64_t{rng()} << 32) | rng();
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return std::isfinite(d) ? d : 0.5;
    }
    case 4:
    case 5: {
      std::string s;
      for (int n = static_cast<int>(rng() % 8); n > 0; --n) s += alphabet[rng() % std::size(alphabet)];
      return s;
    }
    case 6: {
      json a = json::array();
      for (int n = static_cast<int>(rng() % 4); n > 0; --n) a.push_back(random_value(rng, depth + 1));
      return a;
    }
    default: {
      json o = json::object();
      for (int n = static_cast<int>(rng() % 4); n > 0; --n) {
        std::string key = std::string(1, static_cast<char>("abcXYZ_"[rng() % 7])) + std::to_string(rng() % 100);
        o[key] = random_value(rng, depth + 1);
      }
      return o;
    }
  }
}

TEST(ChatToolValue, RoundTripOnRandomValues) {
  std::mt19937 rng(42);
  for (int iter = 0; iter < 3000; ++iter) {
    const json v = random_value(rng, 0);
    const std::string text = format_tool_value(v);
    auto back = parse_tool_value(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.error().message;
    EXPECT_EQ(back->dump(), v.dump()) << text;  // dump() also tells 2 from 2.0
  }
}

TEST(ChatToolValue, RoundTripThroughARenderedCall) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 300; ++iter) {
    json args = random_value(rng, 3);
    if (!args.is_object()) args = json{{"v", args}};
    ChatMessage m;
    m.role = "assistant";
    m.tool_calls.push_back({"", "tool_" + std::to_string(iter), args});
    auto text = render_chat({ChatMessage::Text("user", "go"), m}, {}, {});
    ASSERT_TRUE(text.ok()) << text.error().message;
    const size_t at = text->find("<|tool_call>");
    ASSERT_NE(at, std::string::npos);
    auto parsed = parse_model_output(std::string_view(*text).substr(at));
    ASSERT_TRUE(parsed.ok()) << *text << ": " << parsed.error().message;
    ASSERT_EQ(parsed->tool_calls.size(), 1u);
    EXPECT_EQ(parsed->tool_calls[0].name, "tool_" + std::to_string(iter));
    EXPECT_EQ(parsed->tool_calls[0].arguments.dump(), args.dump());
  }
}

// ---- render_chat --------------------------------------------------------------------------------

TEST(ChatRender, BasicTurnsAndGenerationPrompt) {
  ChatFormatOptions o;
  auto r = render_chat({ChatMessage::Text("system", " Be brief. "), ChatMessage::Text("user", "Hi")}, {}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "<bos><|turn>system\nBe brief.<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\n");
  o.empty_thought_block = true;
  r = render_chat({ChatMessage::Text("user", "Hi")}, {}, o);
  EXPECT_EQ(*r, "<bos><|turn>user\nHi<turn|>\n<|turn>model\n<|channel>thought\n<channel|>");
  o.thinking = true;
  r = render_chat({ChatMessage::Text("user", "Hi")}, {}, o);
  EXPECT_EQ(*r, "<bos><|turn>system\n<|think|>\n<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\n");
}

TEST(ChatRender, ModelIsAnAliasOfAssistant) {
  auto a = render_chat({ChatMessage::Text("user", "Hi"), ChatMessage::Text("model", "Hello")}, {}, {});
  auto b = render_chat({ChatMessage::Text("user", "Hi"), ChatMessage::Text("assistant", "Hello")}, {}, {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST(ChatRender, RefusesMalformedConversations) {
  ChatMessage tool;
  tool.role = "tool";
  tool.content.push_back(ContentPart::Text("42"));
  EXPECT_FALSE(render_chat({ChatMessage::Text("user", "q"), tool}, {}, {}).ok());
  EXPECT_FALSE(render_chat({ChatMessage::Text("critic", "q")}, {}, {}).ok());
  ChatMessage call;
  call.role = "assistant";
  call.tool_calls.push_back({"", "f", json::array({1})});
  EXPECT_FALSE(render_chat({ChatMessage::Text("user", "q"), call}, {}, {}).ok());
  EXPECT_FALSE(
      render_chat({ChatMessage::Text("user", "q")}, {ToolDeclaration{json{{"description", "nameless"}}}}, {}).ok());
  ToolDeclaration bad_props{json::parse(R"({"name":"f","parameters":{"type":"object","properties":[1]}})")};
  EXPECT_FALSE(render_chat({ChatMessage::Text("user", "q")}, {bad_props}, {}).ok());
}

TEST(ChatRender, ArgumentsMayBeJsonText) {
  ChatMessage call;
  call.role = "assistant";
  call.tool_calls.push_back({"1", "f", R"({"b": 2, "a": "x"})"});
  auto r = render_chat({ChatMessage::Text("user", "q"), call}, {}, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(r->find("<|tool_call>call:f{a:<|\"|>x<|\"|>,b:2}<tool_call|><|tool_response>"), std::string::npos) << *r;
}

TEST(ChatRender, OpenAiJsonConversion) {
  auto m = chat_messages_from_json(json::parse(R"([
      {"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"What?"}]},
      {"role":"assistant","content":null,"reasoning_content":"r","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"c","content":{"ok":true}}])"));
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[0].content.size(), 2u);
  EXPECT_EQ((*m)[0].content[0].kind, ContentPart::Kind::kImage);
  EXPECT_TRUE((*m)[1].content.empty());
  EXPECT_EQ((*m)[1].reasoning, "r");
  EXPECT_EQ((*m)[2].result, (json{{"ok", true}}));
  EXPECT_FALSE(chat_messages_from_json(json::parse(R"([{"content":"no role"}])")).ok());
  EXPECT_FALSE(chat_tools_from_json(json::parse(R"([{"name":"not wrapped"}])")).ok());
}

// ---- chat_format_for_model ----------------------------------------------------------------------

ChatFormatOptions options_for(const std::string& name, const GgufValue* chat_template, uint32_t ple) {
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("gemma4"));
  w.set("gemma4.embedding_length_per_layer_input", GgufValue::u32(ple));
  if (chat_template) w.set("tokenizer.chat_template", *chat_template);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("pocket_chat_options_" + name + ".gguf")).string();
  EXPECT_TRUE(w.write(path).ok());
  auto f = GgufFile::open(path);
  EXPECT_TRUE(f.ok()) << f.error().message;
  ChatFormatOptions o = chat_format_for_model(*f);
  std::filesystem::remove(path);
  return o;
}

TEST(ChatOptions, EmptyThoughtBlockFromTemplateOrVariant) {
  const GgufValue with_block = GgufValue::str(
      "{{- '<|turn>model\\n' -}}{%- if not enable_thinking | default(false) -%}{{- '<|channel>thought\\n<channel|>' "
      "-}}");
  const GgufValue without_block = GgufValue::str("{{- '<|turn>model\\n' -}}");
  const GgufValue foreign = GgufValue::str("{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}");
  EXPECT_TRUE(options_for("tmpl_block_ple", &with_block, 256).empty_thought_block);  // the template decides
  EXPECT_FALSE(options_for("tmpl_noblock", &without_block, 0).empty_thought_block);
  EXPECT_FALSE(options_for("ple", nullptr, 256).empty_thought_block);  // E2B/E4B
  EXPECT_TRUE(options_for("nople", nullptr, 0).empty_thought_block);   // 26B-A4B/31B
  EXPECT_TRUE(options_for("foreign", &foreign, 0).empty_thought_block);
  EXPECT_FALSE(options_for("foreign_ple", &foreign, 256).empty_thought_block);
  EXPECT_TRUE(chat_template_has_empty_thought_block("x<|channel>thought\n<channel|>y"));
  EXPECT_FALSE(chat_template_has_empty_thought_block("'<|channel>thought\\n' + t + '\\n<channel|>'"));
}

}  // namespace
}  // namespace pocket
