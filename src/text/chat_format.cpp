// Gemma 4 chat template, transliterated: every branch below names the template construct it mirrors
// (google-gemma-4-31B-it.jinja in llama.cpp). Values print the way Jinja2 prints them ({{ x }} is
// Python's str(x)), so the helpers at the top reproduce Python's str/repr, str.strip and dictsort.
#include "text/chat_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace pocket {
namespace {

using nlohmann::json;

using chat_markers::kQuote;
using chat_markers::kThoughtClose;
using chat_markers::kThoughtOpen;
constexpr std::string_view kEmptyThought = "<|channel>thought\n<channel|>";

// ---- Python / Jinja2 value semantics ----------------------------------------------------------

std::string ascii_upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

std::string ascii_lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Python's float repr: the shortest digits that round-trip, fixed notation for 1e-4 <= |x| < 1e16
// (with ".0" when integral), else d.ddde±XX.
std::string py_float(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  std::string sign;
  if (s[0] == '-') {
    sign = "-";
    s.erase(0, 1);
  }
  const size_t e = s.find('e');
  std::string digits;
  for (char c : s.substr(0, e)) {
    if (c != '.') digits += c;
  }
  const int exp = std::atoi(s.c_str() + e + 1);
  const int decpt = exp + 1;  // value = 0.DIGITS × 10^decpt
  const int nd = static_cast<int>(digits.size());
  std::string out;
  if (decpt <= -4 || decpt > 16) {
    out = digits.substr(0, 1);
    if (nd > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += eb;
  } else if (decpt <= 0) {
    out = "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
  } else if (decpt >= nd) {
    out = digits + std::string(static_cast<size_t>(decpt - nd), '0') + ".0";
  } else {
    out = digits.substr(0, static_cast<size_t>(decpt)) + "." + digits.substr(static_cast<size_t>(decpt));
  }
  return sign + out;
}

std::string py_repr_string(const std::string& s) {
  const char q = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, q);
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\' || c == q) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", u);
      out += b;
    } else {
      out += c;
    }
  }
  return out + q;
}

std::string py_str(const json& v);

std::string py_repr(const json& v) { return v.is_string() ? py_repr_string(v.get<std::string>()) : py_str(v); }

// What {{ v }} prints under Jinja2.
std::string py_str(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return v.get<std::string>();
    case json::value_t::boolean:
      return v.get<bool>() ? "True" : "False";
    case json::value_t::null:
      return "None";
    case json::value_t::number_integer:
      return std::to_string(v.get<int64_t>());
    case json::value_t::number_unsigned:
      return std::to_string(v.get<uint64_t>());
    case json::value_t::number_float:
      return py_float(v.get<double>());
    case json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + py_repr(v[i]);
      return out + "]";
    }
    case json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, x] : v.items()) {
        out += (first ? "" : ", ") + py_repr_string(k) + ": " + py_repr(x);
        first = false;
      }
      return out + "}";
    }
    default:
      return "";
  }
}

// Unicode White_Space as Python's str.strip() sees it.
bool py_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

// Decodes the UTF-8 sequence of `len` bytes at s[i]; 0xFFFFFFFF when malformed.
uint32_t utf8_at(std::string_view s, size_t i, size_t len) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  if (len == 1) return b(0) < 0x80 ? b(0) : 0xFFFFFFFFu;
  uint32_t c = b(0) & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0xFFFFFFFFu;
    c = (c << 6) | (b(k) & 0x3f);
  }
  return c;
}

size_t utf8_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xe0) == 0xc0) return 2;
  if ((lead & 0xf0) == 0xe0) return 3;
  if ((lead & 0xf8) == 0xf0) return 4;
  return 1;
}

// Jinja2's trim filter: Python str.strip().
std::string py_strip(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e) {
    const size_t n = std::min(utf8_len(static_cast<unsigned char>(s[b])), e - b);
    if (!py_space(utf8_at(s, b, n))) break;
    b += n;
  }
  while (e > b) {
    size_t start = e - 1;
    while (start > b && (static_cast<unsigned char>(s[start]) & 0xc0) == 0x80 && e - start < 4) --start;
    if (utf8_len(static_cast<unsigned char>(s[start])) != e - start || !py_space(utf8_at(s, start, e - start))) break;
    e = start;
  }
  return std::string(s.substr(b, e - b));
}

// Jinja2 truthiness; nullptr stands for an undefined value.
bool truthy(const json* v) {
  if (v == nullptr || v->is_null()) return false;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_number_float()) return v->get<double>() != 0.0;
  if (v->is_number()) return v->get<int64_t>() != 0;
  if (v->is_string()) return !v->get_ref<const std::string&>().empty();
  return !v->empty();
}

// v['key'] under Jinja2: undefined (nullptr) unless v is a mapping holding the key.
const json* getitem(const json& v, const char* key) {
  if (!v.is_object()) return nullptr;
  const auto it = v.find(key);
  return it == v.end() ? nullptr : &*it;
}
const json* getitem(const json* v, const char* key) { return v ? getitem(*v, key) : nullptr; }

std::string str_of(const json* v) { return v ? py_str(*v) : std::string(); }  // undefined prints ""
std::string upper_of(const json* v) { return ascii_upper(str_of(v)); }

// Jinja2's dictsort: items sorted by key, case-insensitively, stable.
std::vector<std::pair<std::string, const json*>> dictsort(const json& obj) {
  std::vector<std::pair<std::string, const json*>> items;
  for (const auto& [k, v] : obj.items()) items.emplace_back(k, &v);
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return ascii_lower(a.first) < ascii_lower(b.first); });
  return items;
}

std::string quoted(const std::string& s) { return std::string(kQuote) + s + std::string(kQuote); }

// `<|"|>item<|"|>` for each element of a `required` list, comma-separated.
std::string quoted_list(const json* list) {
  std::string out;
  if (list == nullptr || !list->is_array()) return out;
  for (size_t i = 0; i < list->size(); ++i) out += (i ? "," : "") + quoted(py_str((*list)[i]));
  return out;
}

// ---- Declarations -----------------------------------------------------------------------------

// Macro format_parameters(properties): one `name:{…}` entry per property, sorted. With filter_keys
// (the template's fallback that treats an object schema itself as its property map) the schema
// keywords are skipped.
Result<std::string> format_parameters(const json& properties, bool filter_keys) {
  static const char* const kStandardKeys[] = {"description", "type", "properties", "required", "nullable"};
  std::string out;
  bool found_first = false;
  for (const auto& [key, value_ptr] : dictsort(properties)) {
    if (filter_keys && std::find(std::begin(kStandardKeys), std::end(kStandardKeys), key) != std::end(kStandardKeys)) {
      continue;
    }
    const json& value = *value_ptr;
    if (found_first) out += ",";
    found_first = true;
    out += key + ":{";
    bool add_comma = false;
    const auto comma = [&] {
      if (add_comma) out += ",";
      add_comma = true;
    };
    if (const json* d = getitem(value, "description"); truthy(d)) {
      out += "description:" + quoted(py_str(*d));
      add_comma = true;
    }
    const std::string type = upper_of(getitem(value, "type"));
    if (type == "STRING") {
      if (const json* e = getitem(value, "enum"); truthy(e)) {
        comma();
        out += "enum:" + format_tool_value(*e, /*quote_keys=*/true);
      }
    } else if (type == "ARRAY") {
      const json* items = getitem(value, "items");
      if (items && items->is_object() && !items->empty()) {
        comma();
        out += "items:{";
        bool first_item = true;
        for (const auto& [item_key, item_value] : dictsort(*items)) {
          if (item_value->is_null()) continue;
          if (!first_item) out += ",";
          first_item = false;
          if (item_key == "properties") {
            out += "properties:{";
            if (item_value->is_object()) {
              auto p = format_parameters(*item_value, false);
              if (!p) return p;
              out += *p;
            }
            out += "}";
          } else if (item_key == "required") {
            out += "required:[" + quoted_list(item_value) + "]";
          } else if (item_key == "type") {
            if (item_value->is_string()) {
              out += "type:" + format_tool_value(ascii_upper(item_value->get<std::string>()), true);
            } else {
              json upper_list = json::array();  // item_value | map('upper') | list
              if (item_value->is_array()) {
                for (const auto& t : *item_value) upper_list.push_back(ascii_upper(py_str(t)));
              }
              out += "type:" + format_tool_value(upper_list, true);
            }
          } else {
            out += item_key + ":" + format_tool_value(*item_value, true);
          }
        }
        out += "}";
      }
    }
    if (truthy(getitem(value, "nullable"))) {
      comma();
      out += "nullable:true";
    }
    if (type == "OBJECT") {
      const json* props = getitem(value, "properties");
      if (props && props->is_object()) {
        comma();
        auto p = format_parameters(*props, false);
        if (!p) return p;
        out += "properties:{" + *p + "}";
      } else if (value.is_object()) {
        comma();
        auto p = format_parameters(value, true);
        if (!p) return p;
        out += "properties:{" + *p + "}";
      }
      if (const json* req = getitem(value, "required"); truthy(req)) {
        comma();
        out += "required:[" + quoted_list(req) + "]";
      }
    }
    comma();
    out += "type:" + quoted(type) + "}";
  }
  return out;
}

// ---- Messages ---------------------------------------------------------------------------------

bool is_system(const std::string& role) { return role == "system" || role == "developer"; }

std::string normalized_role(const std::string& role) {
  if (role == "developer") return "system";  // as llama.cpp maps it before applying the template
  if (role == "model") return "assistant";
  return role;
}

// Macro strip_thinking: drops every <|channel>…<channel|> span (and an unterminated one), then trims.
std::string strip_thinking(const std::string& text) {
  std::string result;
  size_t i = 0;
  for (;;) {  // text.split('<channel|>')
    const size_t close = text.find(kThoughtClose, i);
    const std::string part = text.substr(i, close == std::string::npos ? std::string::npos : close - i);
    const size_t open = part.find(kThoughtOpen);
    result += open == std::string::npos ? part : part.substr(0, open);
    if (close == std::string::npos) break;
    i = close + kThoughtClose.size();
  }
  return py_strip(result);
}

std::string text_of(const std::vector<ContentPart>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p.kind == ContentPart::Kind::kText) out += p.text;
  }
  return out;
}

Result<json> call_arguments(const ToolCall& c) {
  if (c.arguments.is_null()) return json::object();
  if (c.arguments.is_object()) return c.arguments;
  if (c.arguments.is_string()) {
    json parsed = json::parse(c.arguments.get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) return parsed;
  }
  return Error{"arguments of the call to '" + c.name + "' are not a JSON object"};
}

// Macro format_tool_response_block.
std::string format_response(const std::string& name, const json& response) {
  std::string out = "<|tool_response>response:" + name + "{";
  if (response.is_object()) {
    bool first = true;
    for (const auto& [key, value] : dictsort(response)) {
      out += (first ? "" : ",") + key + ":" + format_tool_value(*value);
      first = false;
    }
  } else {
    out += "value:" + format_tool_value(response);
  }
  return out + "}<tool_response|>";
}

// The name a tool message's result is reported under: the call with the same id (last match
// wins), else the message's own name, else "unknown". `position` is the message's index among the
// tool messages after the call; it decides among several calls that have no id.
std::string response_name(const std::vector<ToolCall>& calls, const ChatMessage& result, size_t position) {
  std::string name = result.name.empty() ? "unknown" : result.name;
  size_t idless = 0;
  for (const auto& c : calls) {
    if (c.id == result.tool_call_id) name = c.name;
    idless += c.id.empty() ? 1 : 0;
  }
  if (result.tool_call_id.empty() && idless > 1 && position < calls.size() && calls[position].id.empty()) {
    name = calls[position].name;
  }
  return name;
}

}  // namespace

std::string format_tool_value(const json& v, bool quote_keys) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::string:
      return quoted(v.get<std::string>());
    case json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, value] : dictsort(v)) {
        out += (first ? "" : ",") + (quote_keys ? quoted(key) : key) + ":" + format_tool_value(*value, quote_keys);
        first = false;
      }
      return out + "}";
    }
    case json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + format_tool_value(v[i], quote_keys);
      return out + "]";
    }
    default:
      return py_str(v);  // numbers
  }
}

// Macro format_function_declaration, wrapped in <|tool>…<tool|> and trimmed as the template does.
// Its quirks are kept: the description is always present, `parameters` is closed only by its
// `type`, and a response schema contributes only its description and an OBJECT type.
Result<std::string> format_tool_declaration(const ToolDeclaration& tool) {
  const json& f = tool.function;
  const json* name = getitem(f, "name");
  if (name == nullptr || !name->is_string()) return Error{"tool declaration without a name"};
  std::string out =
      "declaration:" + name->get<std::string>() + "{description:" + quoted(str_of(getitem(f, "description")));
  const json* params = getitem(f, "parameters");
  if (truthy(params)) {
    out += ",parameters:{";
    if (const json* props = getitem(params, "properties"); truthy(props)) {
      if (!props->is_object())
        return Error{"tool '" + name->get<std::string>() + "': parameters.properties is not an object"};
      auto p = format_parameters(*props, false);
      if (!p) return p;
      out += "properties:{" + *p + "},";
    }
    if (const json* req = getitem(params, "required"); truthy(req)) out += "required:[" + quoted_list(req) + "],";
    if (const json* type = getitem(params, "type"); truthy(type)) out += "type:" + quoted(upper_of(type)) + "}";
  }
  if (f.is_object() && f.contains("response")) {
    const json& response = f["response"];
    out += ",response:{";
    if (const json* d = getitem(response, "description"); truthy(d)) out += "description:" + quoted(py_str(*d)) + ",";
    if (upper_of(getitem(response, "type")) == "OBJECT") out += "type:" + quoted("OBJECT") + "}";
  }
  out += "}";
  return "<|tool>" + py_strip(out) + "<tool|>";
}

Result<std::string> render_chat(const std::vector<ChatMessage>& messages, const std::vector<ToolDeclaration>& tools,
                                const ChatFormatOptions& options) {
  enum class Prev { kNone, kThink, kTool, kToolCall, kToolResponse, kMedia };
  Prev prev = Prev::kNone;
  std::string out = options.add_bos ? "<bos>" : "";

  // System turn: thinking switch, the first message if it is a system message, tool declarations.
  size_t first = 0;
  const bool first_is_system = !messages.empty() && is_system(messages[0].role);
  if (options.thinking || !tools.empty() || first_is_system) {
    out += "<|turn>system\n";
    if (options.thinking) {
      out += "<|think|>\n";
      prev = Prev::kThink;
    }
    if (first_is_system) {
      out += py_strip(text_of(messages[0].content));
      first = 1;
    }
    for (const auto& t : tools) {
      auto d = format_tool_declaration(t);
      if (!d) return d;
      out += *d;
      prev = Prev::kTool;
    }
    out += "<turn|>\n";
  }

  size_t last_user = std::string::npos;
  for (size_t i = first; i < messages.size(); ++i) {
    if (normalized_role(messages[i].role) == "user") last_user = i;
  }

  std::string prev_role;  // role of the previous non-tool message
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const std::string role = normalized_role(m.role);
    if (role == "tool") {
      // Rendered with the call it answers (below). The template drops a stray one; we refuse it.
      size_t j = i;
      while (j > first && normalized_role(messages[j - 1].role) == "tool") --j;
      if (j == first || messages[j - 1].tool_calls.empty()) {
        return Error{"tool message " + std::to_string(i) + " does not follow a message with tool calls"};
      }
      continue;
    }
    if (role != "system" && role != "user" && role != "assistant") {
      return Error{"unknown role '" + m.role + "' in message " + std::to_string(i)};
    }
    prev = Prev::kNone;
    const std::string turn_role = role == "assistant" ? "model" : role;
    // Consecutive assistant messages (tool messages between them ignored) share one model turn.
    if (!(turn_role == "model" && prev_role == "assistant")) out += "<|turn>" + turn_role + "\n";

    if (!m.reasoning.empty() && (last_user == std::string::npos || i > last_user) && !m.tool_calls.empty()) {
      out += "<|channel>thought\n" + m.reasoning + "\n<channel|>";
    }
    for (const auto& c : m.tool_calls) {
      auto args = call_arguments(c);
      if (!args) return args.error();
      out += "<|tool_call>call:" + c.name + "{";
      bool first_arg = true;
      for (const auto& [key, value] : dictsort(*args)) {
        out += (first_arg ? "" : ",") + key + ":" + format_tool_value(*value);
        first_arg = false;
      }
      out += "}<tool_call|>";
      prev = Prev::kToolCall;
    }
    // OpenAI tool messages right after the calls: their results, inside this model turn.
    bool responded = false;
    if (!m.tool_calls.empty()) {
      for (size_t k = i + 1; k < messages.size() && normalized_role(messages[k].role) == "tool"; ++k) {
        const ChatMessage& r = messages[k];
        const json body = r.result.is_null() ? json(text_of(r.content)) : r.result;
        out += format_response(response_name(m.tool_calls, r, k - i - 1), body);
        responded = true;
        prev = Prev::kToolResponse;
      }
    }
    for (const auto& p : m.content) {
      switch (p.kind) {
        case ContentPart::Kind::kText:
          out += role == "assistant" ? strip_thinking(p.text) : py_strip(p.text);
          break;
        case ContentPart::Kind::kImage:
          out += "<|image|>";
          break;
        case ContentPart::Kind::kAudio:
          out += "<|audio|>";
          break;
        case ContentPart::Kind::kVideo:
          out += "<|video|>";
          break;
      }
      if (p.kind != ContentPart::Kind::kText) prev = Prev::kMedia;
    }
    if (prev == Prev::kToolCall && !responded) {
      out += "<|tool_response>";  // a call without its result: the model's stop token, as generated
    } else if (!(responded && m.content.empty())) {
      out += "<turn|>\n";  // else the turn stays open: the model continues after the results
    }
    prev_role = role;
  }

  if (options.add_generation_prompt) {
    const bool after_tools = prev == Prev::kToolResponse || prev == Prev::kToolCall;
    const bool closed = out.size() >= 8 && out.compare(out.size() - 8, 8, "<turn|>\n") == 0;
    if (!after_tools || (prev == Prev::kToolResponse && closed)) {
      out += "<|turn>model\n";
      if (options.empty_thought_block && !options.thinking) out += kEmptyThought;
    }
  }
  return out;
}

// ---- OpenAI JSON ------------------------------------------------------------------------------

Result<std::vector<ChatMessage>> chat_messages_from_json(const json& messages) {
  if (!messages.is_array()) return Error{"messages: expected an array"};
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& j = messages[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!j.is_object() || !j.contains("role") || !j["role"].is_string())
      return Error{where + ": expected an object with a role"};
    ChatMessage m;
    m.role = j["role"].get<std::string>();
    const json content = j.value("content", json());
    if (content.is_string()) {
      if (!content.get<std::string>().empty()) m.content.push_back(ContentPart::Text(content.get<std::string>()));
    } else if (content.is_array()) {
      for (const auto& part : content) {
        const std::string type = part.is_object() ? part.value("type", std::string()) : std::string();
        if (type == "text") {
          const json text = part.value("text", json(""));
          if (!text.is_string()) return Error{where + ": a text part without text"};
          m.content.push_back(ContentPart::Text(text.get<std::string>()));
        } else if (type == "image" || type == "image_url" || type == "input_image") {
          // {"image_url": {"url": U}} (OpenAI), {"image_url": U}, or {"image": U} / {"image_url"...}.
          ContentPart p = ContentPart::Image();
          for (const char* key : {"image_url", "image"}) {
            const json v = part.value(key, json());
            if (v.is_string()) p.source = v.get<std::string>();
            if (v.is_object() && v.value("url", json()).is_string()) p.source = v["url"].get<std::string>();
          }
          m.content.push_back(std::move(p));
        } else if (type == "audio" || type == "input_audio") {
          // {"input_audio": {"data": BASE64, "format": "wav"}}.
          ContentPart p = ContentPart::Audio();
          const json v = part.value(type == "audio" ? "audio" : "input_audio", json());
          if (v.is_object()) {
            if (v.value("data", json()).is_string()) p.source = v["data"].get<std::string>();
            if (v.value("format", json()).is_string()) p.format = v["format"].get<std::string>();
          }
          m.content.push_back(std::move(p));
        } else if (type == "video") {
          m.content.push_back(ContentPart::Video());
        }  // other part types render nothing, as in the template
      }
    } else if (!content.is_null()) {
      if (m.role != "tool") return Error{where + ": content must be a string or a list of parts"};
      m.result = content;
    }
    for (const char* key : {"reasoning", "reasoning_content"}) {
      if (m.reasoning.empty() && j.contains(key) && j[key].is_string()) m.reasoning = j[key].get<std::string>();
    }
    if (j.contains("tool_call_id") && j["tool_call_id"].is_string())
      m.tool_call_id = j["tool_call_id"].get<std::string>();
    if (j.contains("name") && j["name"].is_string()) m.name = j["name"].get<std::string>();
    if (j.contains("tool_calls") && j["tool_calls"].is_array()) {
      for (const auto& tc : j["tool_calls"]) {
        const json* fn = getitem(tc, "function");
        const json* name = getitem(fn, "name");
        if (name == nullptr || !name->is_string()) return Error{where + ": a tool call without function.name"};
        ToolCall c;
        c.name = name->get<std::string>();
        if (const json* id = getitem(tc, "id"); id && id->is_string()) c.id = id->get<std::string>();
        if (const json* args = getitem(fn, "arguments")) c.arguments = *args;
        m.tool_calls.push_back(std::move(c));
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<ToolDeclaration>> chat_tools_from_json(const json& tools) {
  std::vector<ToolDeclaration> out;
  if (tools.is_null()) return out;
  if (!tools.is_array()) return Error{"tools: expected an array"};
  for (size_t i = 0; i < tools.size(); ++i) {
    const json* fn = getitem(tools[i], "function");
    if (fn == nullptr || !fn->is_object()) return Error{"tools[" + std::to_string(i) + "]: expected {type, function}"};
    out.push_back({*fn});
  }
  return out;
}

}  // namespace pocket
