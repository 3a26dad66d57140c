#include "text/chat_format.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace pocket {
namespace {

using nlohmann::json;

constexpr std::string_view kQuote = "<|\"|>";
constexpr std::string_view kThoughtOpen = "<|channel>";
constexpr std::string_view kThoughtClose = "<channel|>";
constexpr std::string_view kCallOpen = "<|tool_call>";
constexpr std::string_view kCallClose = "<tool_call|>";

std::string trim(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

// Removes every <|channel>…<channel|> span (stored thoughts never go back into the prompt).
std::string strip_thoughts(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    const size_t open = s.find(kThoughtOpen, i);
    if (open == std::string_view::npos) {
      out.append(s.substr(i));
      break;
    }
    out.append(s.substr(i, open - i));
    const size_t close = s.find(kThoughtClose, open);
    if (close == std::string_view::npos) break;  // an unterminated thought is dropped entirely
    i = close + kThoughtClose.size();
  }
  return out;
}

std::string render_content(const std::vector<ContentPart>& parts) {
  std::string out;
  for (const auto& p : parts) {
    switch (p.kind) {
      case ContentPart::Kind::kText: out += trim(p.text); break;
      case ContentPart::Kind::kImage: out += "<|image|>"; break;
      case ContentPart::Kind::kAudio: out += "<|audio|>"; break;
      case ContentPart::Kind::kVideo: out += "<|video|>"; break;
    }
  }
  return out;
}

std::string plain_text(const std::vector<ContentPart>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p.kind == ContentPart::Kind::kText) out += p.text;
  }
  return out;
}

std::string quoted(const std::string& s) { return std::string(kQuote) + s + std::string(kQuote); }

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// A JSON-schema node in the declaration syntax; fields in the template's fixed order.
std::string format_schema(const json& schema) {
  std::vector<std::string> fields;
  if (schema.contains("description") && schema["description"].is_string()) {
    fields.push_back("description:" + quoted(schema["description"].get<std::string>()));
  }
  std::string type = schema.contains("type") && schema["type"].is_string() ? schema["type"].get<std::string>() : "";
  if (schema.contains("enum") && schema["enum"].is_array()) {
    std::string e = "enum:[";
    bool first = true;
    for (const auto& v : schema["enum"]) {
      e += (first ? "" : ",") + format_tool_value(v);
      first = false;
    }
    fields.push_back(e + "]");
  }
  if (schema.contains("items") && schema["items"].is_object()) fields.push_back("items:" + format_schema(schema["items"]));
  if (schema.value("nullable", false)) fields.push_back("nullable:true");
  if (schema.contains("properties") && schema["properties"].is_object()) {
    // std::map sorts the property names, as the template does.
    std::map<std::string, json> props(schema["properties"].begin(), schema["properties"].end());
    std::string p = "properties:{";
    bool first = true;
    for (const auto& [name, sub] : props) {
      p += (first ? "" : ",") + name + ":" + format_schema(sub);
      first = false;
    }
    fields.push_back(p + "}");
  }
  if (schema.contains("required") && schema["required"].is_array()) {
    std::string r = "required:[";
    bool first = true;
    for (const auto& v : schema["required"]) {
      if (!v.is_string()) continue;
      r += (first ? "" : ",") + quoted(v.get<std::string>());
      first = false;
    }
    fields.push_back(r + "]");
  }
  if (!type.empty()) fields.push_back("type:" + quoted(upper(type)));
  std::string out = "{";
  for (size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + fields[i];
  return out + "}";
}

std::string format_call(const ToolCall& c) {
  return std::string(kCallOpen) + "call:" + c.name + format_tool_value(c.arguments.is_null() ? json::object() : c.arguments) +
         std::string(kCallClose);
}

std::string format_response(const std::string& name, const std::string& result) {
  json parsed = json::parse(result, nullptr, /*allow_exceptions=*/false);
  const json value = parsed.is_object() ? parsed : json{{"value", result}};
  return "<|tool_response>response:" + name + format_tool_value(value) + "<tool_response|>";
}

bool is_system(const std::string& role) { return role == "system" || role == "developer"; }
bool is_model(const std::string& role) { return role == "assistant" || role == "model"; }

}  // namespace

std::string format_tool_value(const json& v) {
  switch (v.type()) {
    case json::value_t::string: return quoted(v.get<std::string>());
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::null: return "null";
    case json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + format_tool_value(v[i]);
      return out + "]";
    }
    case json::value_t::object: {
      std::map<std::string, json> sorted(v.begin(), v.end());  // keys in alphabetical order
      std::string out = "{";
      bool first = true;
      for (const auto& [k, x] : sorted) {
        out += (first ? "" : ",") + k + ":" + format_tool_value(x);
        first = false;
      }
      return out + "}";
    }
    default: return v.dump();  // numbers
  }
}

std::string format_tool_declaration(const ToolDeclaration& tool) {
  const json& f = tool.function;
  std::string out = "<|tool>declaration:" + f.value("name", std::string()) + "{";
  std::vector<std::string> fields;
  if (f.contains("description") && f["description"].is_string()) {
    fields.push_back("description:" + quoted(f["description"].get<std::string>()));
  }
  if (f.contains("parameters") && f["parameters"].is_object()) fields.push_back("parameters:" + format_schema(f["parameters"]));
  if (f.contains("response") && f["response"].is_object()) fields.push_back("response:" + format_schema(f["response"]));
  for (size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + fields[i];
  return out + "}<tool|>";
}

Result<std::string> render_chat(const std::vector<ChatMessage>& messages, const std::vector<ToolDeclaration>& tools,
                                const ChatFormatOptions& options) {
  for (const auto& t : tools) {
    if (!t.function.is_object() || !t.function.contains("name") || !t.function["name"].is_string()) {
      return Error{"tool declaration without a name"};
    }
  }
  std::string out = options.add_bos ? "<bos>" : "";
  size_t i = 0;
  const bool first_is_system = !messages.empty() && is_system(messages[0].role);
  if (options.thinking || !tools.empty() || first_is_system) {
    out += "<|turn>system\n";
    if (options.thinking) out += "<|think|>\n";
    if (first_is_system) out += trim(plain_text(messages[0].content));
    for (const auto& t : tools) out += format_tool_declaration(t);
    out += "<turn|>\n";
    if (first_is_system) i = 1;
  }
  size_t last_user = 0;
  for (size_t j = 0; j < messages.size(); ++j) {
    if (messages[j].role == "user") last_user = j;
  }
  bool model_turn_open = false;  // a model turn left open after tool responses
  for (; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (is_system(m.role)) return Error{"a system message may only come first (message " + std::to_string(i) + ")"};
    if (m.role == "user") {
      if (model_turn_open) out += "<turn|>\n";
      model_turn_open = false;
      out += "<|turn>user\n" + render_content(m.content) + "<turn|>\n";
      continue;
    }
    if (m.role == "tool") return Error{"tool message " + std::to_string(i) + " does not follow an assistant tool call"};
    if (!is_model(m.role)) return Error{"unknown role '" + m.role + "' in message " + std::to_string(i)};

    if (!model_turn_open) out += "<|turn>model\n";
    if (!m.reasoning.empty() && !m.tool_calls.empty() && i > last_user) {
      out += std::string(kThoughtOpen) + "thought\n" + m.reasoning + "\n" + std::string(kThoughtClose);
    }
    const std::string text = trim(strip_thoughts(render_content(m.content)));
    if (m.tool_calls.empty()) {
      out += text + "<turn|>\n";
      model_turn_open = false;
      continue;
    }
    for (const auto& c : m.tool_calls) out += format_call(c);
    // Results of these calls: the tool messages that follow, matched by id (else by name, else in order).
    size_t k = i + 1;
    bool any_response = false;
    for (; k < messages.size() && messages[k].role == "tool"; ++k) {
      const ChatMessage& r = messages[k];
      std::string name = r.name;
      for (size_t c = 0; c < m.tool_calls.size(); ++c) {
        if (!r.tool_call_id.empty() && m.tool_calls[c].id == r.tool_call_id) name = m.tool_calls[c].name;
      }
      if (name.empty()) name = m.tool_calls[std::min(k - i - 1, m.tool_calls.size() - 1)].name;
      out += format_response(name, plain_text(r.content));
      any_response = true;
    }
    i = k - 1;
    if (!any_response) out += "<|tool_response>";
    if (!text.empty()) {
      out += text + "<turn|>\n";
      model_turn_open = false;
    } else {
      model_turn_open = true;  // the model continues this turn after the results
    }
  }
  if (options.add_generation_prompt && !model_turn_open) {
    out += "<|turn>model\n";
    if (options.empty_thought_block && !options.thinking) out += std::string(kThoughtOpen) + "thought\n" + std::string(kThoughtClose);
  }
  return out;
}

}  // namespace pocket
