#include "server/api.h"

#include <cmath>
#include <limits>
#include <random>
#include <set>

#include "text/tokenizer.h"

namespace pocket::server {
namespace {

using nlohmann::json;

std::string type_name(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

ApiError invalid(std::string param, std::string message, std::string code = "invalid_value") {
  return {400, std::move(message), "invalid_request_error", std::move(code), std::move(param)};
}

ApiError wrong_type(const std::string& param, const std::string& want, const json& got) {
  return invalid(param, "'" + param + "' must be " + want + ", not " + type_name(got), "invalid_type");
}

// Reads optional top-level fields; the first problem is kept and later reads do nothing.
class Fields {
 public:
  explicit Fields(const json& body) : body_(body) {}
  std::optional<ApiError> error;

  // The field, or null when absent or JSON null (OpenAI treats null as "not given").
  const json* get(const char* key) const {
    auto it = body_.find(key);
    return it == body_.end() || it->is_null() ? nullptr : &*it;
  }
  bool boolean(const char* key, bool& out) {
    const json* v = get(key);
    if (error || !v) return false;
    if (!v->is_boolean()) return fail(wrong_type(key, "a boolean", *v));
    out = v->get<bool>();
    return true;
  }
  bool number(const char* key, double lo, double hi, float& out) {
    const json* v = get(key);
    if (error || !v) return false;
    if (!v->is_number()) return fail(wrong_type(key, "a number", *v));
    const double d = v->get<double>();
    if (!(d >= lo && d <= hi)) return fail(range(key, lo, hi, d));
    out = static_cast<float>(d);
    return true;
  }
  bool integer(const char* key, int64_t lo, int64_t hi, int64_t& out) {
    const json* v = get(key);
    if (error || !v) return false;
    if (!v->is_number_integer() && !(v->is_number_float() && std::floor(v->get<double>()) == v->get<double>())) {
      return fail(wrong_type(key, "an integer", *v));
    }
    const double d = v->get<double>();
    if (d < static_cast<double>(lo) || d > static_cast<double>(hi)) return fail(range(key, lo, hi, d));
    out = v->is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(v->get<uint64_t>(), INT64_MAX))
                                  : v->get<int64_t>();
    return true;
  }
  bool string(const char* key, std::string& out) {
    const json* v = get(key);
    if (error || !v) return false;
    if (!v->is_string()) return fail(wrong_type(key, "a string", *v));
    out = v->get<std::string>();
    return true;
  }
  bool fail(ApiError e) {
    if (!error) error = std::move(e);
    return false;
  }

 private:
  template <class T>
  static ApiError range(const char* key, T lo, T hi, double got) {
    auto fmt = [](double x) {
      json j = x;
      return j.dump();
    };
    std::string m = "'";  // appended piece by piece (GCC 12 warns wrongly about operator+ chains here)
    m.append(key).append("' must be between ").append(fmt(static_cast<double>(lo)));
    m.append(" and ").append(fmt(static_cast<double>(hi))).append(", got ").append(fmt(got));
    return invalid(key, m);
  }
  const json& body_;
};

const std::set<std::string> kRoles = {"system", "developer", "user", "assistant", "tool"};

// Nesting depth of a JSON value, computed without recursion (a hostile body may nest very deeply; the
// code that reads schemas and renders tool declarations recurses).
size_t nesting_depth(const json& v) {
  size_t deepest = 0;
  std::vector<std::pair<const json*, size_t>> todo = {{&v, 1}};
  while (!todo.empty()) {
    auto [j, d] = todo.back();
    todo.pop_back();
    deepest = std::max(deepest, d);
    if (j->is_structured()) {
      for (const auto& x : *j) todo.push_back({&x, d + 1});
    }
  }
  return deepest;
}

// Content parts pocket cannot read yet: a clear 400 naming the input.
std::optional<ApiError> check_part(const json& part, const std::string& where) {
  if (!part.is_object()) return wrong_type(where, "a content part object", part);
  const auto t = part.find("type");
  if (t == part.end() || !t->is_string()) return invalid(where + ".type", "'" + where + ".type' must be a string");
  const std::string type = t->get<std::string>();
  if (type == "text") {
    const auto text = part.find("text");
    if (text == part.end() || !text->is_string()) {
      return invalid(where + ".text", "'" + where + ".text' must be a string", "invalid_type");
    }
    return std::nullopt;
  }
  if (type == "image_url" || type == "image" || type == "input_image") {
    // {"image_url": {"url": "data:image/png;base64,..."}} or {"image_url": "..."}; decoded by the server.
    const json* v = nullptr;
    for (const char* key : {"image_url", "image"}) {
      if (part.contains(key)) v = &part[key];
    }
    const bool ok = v && (v->is_string() || (v->is_object() && v->contains("url") && (*v)["url"].is_string()));
    if (!ok)
      return invalid(where, where + ": an image part needs {\"image_url\": {\"url\": \"data:image/...;base64,...\"}}");
    return std::nullopt;
  }
  if (type == "input_audio" || type == "audio") {
    const json v = part.value(type == "audio" ? "audio" : "input_audio", json());
    if (!v.is_object() || !v.value("data", json()).is_string() || !(v.value("format", json("")).is_string())) {
      return invalid(where, where + ": an audio part needs {\"input_audio\": {\"data\": BASE64, \"format\": \"wav\"}}");
    }
    return std::nullopt;
  }
  std::string what;
  if (type == "video" || type == "video_url") what = "video input";
  if (type == "file" || type == "input_file") what = "file input";
  if (!what.empty()) {
    return invalid(where, where + ": " + what + " is not supported (send video as image frames)",
                   "unsupported_content");
  }
  return invalid(where + ".type", where + ": unknown content part type '" + type + "'");
}

std::optional<ApiError> check_messages(const json& msgs) {
  if (!msgs.is_array()) return wrong_type("messages", "an array", msgs);
  if (msgs.empty()) return invalid("messages", "'messages' must contain at least one message");
  for (size_t i = 0; i < msgs.size(); ++i) {
    const json& m = msgs[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return wrong_type(where, "an object", m);
    const auto role = m.find("role");
    if (role == m.end() || !role->is_string()) return invalid(where + ".role", where + ": 'role' must be a string");
    const std::string r = role->get<std::string>();
    if (!kRoles.count(r)) {
      return invalid(where + ".role", where + ": unknown role '" + r + "' (system, developer, user, assistant, tool)");
    }
    const auto content = m.find("content");
    if (content != m.end() && content->is_array()) {
      for (size_t j = 0; j < content->size(); ++j) {
        if (auto e = check_part((*content)[j], where + ".content[" + std::to_string(j) + "]")) return e;
      }
    } else if (content != m.end() && !content->is_string() && !content->is_null() && r != "tool") {
      return wrong_type(where + ".content", "a string or an array of parts", *content);
    }
    if ((content == m.end() || content->is_null()) && (r == "user" || r == "system" || r == "developer")) {
      return invalid(where + ".content", where + ": a " + r + " message needs content");
    }
    for (const char* key : {"name", "tool_call_id", "reasoning_content", "reasoning"}) {
      const auto v = m.find(key);
      if (v != m.end() && !v->is_string() && !v->is_null()) return wrong_type(where + "." + key, "a string", *v);
    }
    const auto calls = m.find("tool_calls");
    if (calls == m.end() || calls->is_null()) continue;
    if (!calls->is_array()) return wrong_type(where + ".tool_calls", "an array", *calls);
    for (size_t j = 0; j < calls->size(); ++j) {
      const std::string cw = where + ".tool_calls[" + std::to_string(j) + "]";
      const json& c = (*calls)[j];
      const json* fn = c.is_object() && c.contains("function") ? &c["function"] : nullptr;
      if (!fn || !fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string()) {
        return invalid(cw + ".function.name", cw + ": expected {type: \"function\", function: {name, arguments}}");
      }
      if (c.contains("id") && !c["id"].is_string()) return wrong_type(cw + ".id", "a string", c["id"]);
      const json args = fn->value("arguments", json());
      if (args.is_string() && !args.get<std::string>().empty()) {
        const json parsed = json::parse(args.get<std::string>(), nullptr, false);
        if (parsed.is_discarded() || !parsed.is_object()) {
          return invalid(cw + ".function.arguments", cw + ": 'arguments' must be a JSON object (as text)");
        }
      } else if (!args.is_null() && !args.is_object() && !args.is_string()) {
        return wrong_type(cw + ".function.arguments", "a JSON string", args);
      }
    }
  }
  return std::nullopt;
}

std::optional<ApiError> check_tools(const json& tools, std::set<std::string>& names) {
  if (!tools.is_array()) return wrong_type("tools", "an array", tools);
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string where = "tools[" + std::to_string(i) + "]";
    const json& t = tools[i];
    if (!t.is_object() || t.value("type", std::string("function")) != "function" || !t.contains("function") ||
        !t["function"].is_object()) {
      return invalid(where, where + ": expected {type: \"function\", function: {name, description, parameters}}");
    }
    const json& fn = t["function"];
    if (!fn.contains("name") || !fn["name"].is_string() || fn["name"].get<std::string>().empty()) {
      return invalid(where + ".function.name", where + ": the function needs a name");
    }
    if (fn.contains("parameters") && !fn["parameters"].is_object() && !fn["parameters"].is_null()) {
      return wrong_type(where + ".function.parameters", "a JSON schema object", fn["parameters"]);
    }
    if (fn.contains("description") && !fn["description"].is_string() && !fn["description"].is_null()) {
      return wrong_type(where + ".function.description", "a string", fn["description"]);
    }
    names.insert(fn["name"].get<std::string>());
  }
  return std::nullopt;
}

std::optional<ApiError> parse_chat(Fields& f, Request& out) {
  const json* msgs = f.get("messages");
  if (!msgs) return invalid("messages", "'messages' is required", "missing_required_parameter");
  if (auto e = check_messages(*msgs)) return e;
  auto messages = chat_messages_from_json(*msgs);
  if (!messages) return invalid("messages", messages.error().message);
  out.messages = std::move(messages).value();
  std::set<std::string> names;
  if (const json* tools = f.get("tools")) {
    if (auto e = check_tools(*tools, names)) return e;
    auto decl = chat_tools_from_json(*tools);
    if (!decl) return invalid("tools", decl.error().message);
    out.tools = std::move(decl).value();
  }
  if (const json* tc = f.get("tool_choice")) {
    if (tc->is_string()) {
      const std::string s = tc->get<std::string>();
      if (s == "auto")
        out.tool_choice = ToolChoice::kAuto;
      else if (s == "none")
        out.tool_choice = ToolChoice::kNone;
      else if (s == "required")
        out.tool_choice = ToolChoice::kRequired;
      else
        return invalid("tool_choice", "'tool_choice' must be \"none\", \"auto\", \"required\" or a function");
    } else if (tc->is_object() && tc->contains("function") && (*tc)["function"].is_object() &&
               (*tc)["function"].value("name", json()).is_string()) {
      out.tool_choice = ToolChoice::kNamed;
      out.tool_name = (*tc)["function"]["name"].get<std::string>();
      if (!names.count(out.tool_name)) {
        return invalid("tool_choice", "tool_choice names '" + out.tool_name + "', which is not among the tools");
      }
    } else {
      return invalid("tool_choice", "'tool_choice' must be \"none\", \"auto\", \"required\" or a function");
    }
    if (out.tool_choice != ToolChoice::kNone && out.tool_choice != ToolChoice::kAuto && out.tools.empty()) {
      return invalid("tool_choice", "tool_choice requires a tool call but no tools are given");
    }
  }
  std::string effort;
  if (f.string("reasoning_effort", effort)) {
    if (effort != "none" && effort != "minimal" && effort != "low" && effort != "medium" && effort != "high") {
      return invalid("reasoning_effort", "'reasoning_effort' must be none, minimal, low, medium or high");
    }
    out.thinking = effort != "none" && effort != "minimal";
  }
  if (const json* kw = f.get("chat_template_kwargs")) {
    if (!kw->is_object()) return wrong_type("chat_template_kwargs", "an object", *kw);
    const json et = kw->value("enable_thinking", json());
    if (!et.is_null() && !et.is_boolean()) return wrong_type("chat_template_kwargs.enable_thinking", "a boolean", et);
    if (et.is_boolean()) out.thinking = et.get<bool>();
  }
  f.boolean("think", out.thinking);
  return f.error;
}

std::optional<ApiError> parse_prompt(Fields& f, const ParseLimits& limits, Request& out) {
  const json* p = f.get("prompt");
  if (!p) return invalid("prompt", "'prompt' is required", "missing_required_parameter");
  auto ids = [&](const json& a) -> std::optional<ApiError> {
    for (const auto& x : a) {
      if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() >= limits.n_vocab) {
        return invalid("prompt", "'prompt' token ids must be integers in [0, " + std::to_string(limits.n_vocab) + ")");
      }
      out.prompt_ids.push_back(x.get<int32_t>());
    }
    if (out.prompt_ids.empty()) return invalid("prompt", "'prompt' is empty");
    return std::nullopt;
  };
  if (p->is_string()) {
    out.prompt = p->get<std::string>();
  } else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
    out.prompt = (*p)[0].get<std::string>();
  } else if (p->is_array() && !p->empty() && (*p)[0].is_number()) {
    return ids(*p);
  } else if (p->is_array() && p->size() == 1 && (*p)[0].is_array()) {
    return ids((*p)[0]);
  } else if (p->is_array() && p->size() > 1) {
    return invalid("prompt", "several prompts in one request are not supported; send one prompt per request",
                   "unsupported_value");
  } else {
    return wrong_type("prompt", "a string or an array of token ids", *p);
  }
  if (out.prompt.empty()) return invalid("prompt", "'prompt' is empty");
  bool echo = false;
  if (f.boolean("echo", echo) && echo) return invalid("echo", "'echo' is not supported", "unsupported_value");
  std::string suffix;
  if (f.string("suffix", suffix) && !suffix.empty()) {
    return invalid("suffix", "'suffix' is not supported", "unsupported_value");
  }
  int64_t best_of = 1;
  if (f.integer("best_of", 1, 128, best_of) && best_of != 1) {
    return invalid("best_of", "only best_of = 1 is supported", "unsupported_value");
  }
  return f.error;
}

}  // namespace

json error_body(const ApiError& e) {
  return {{"error",
           {{"message", e.message},
            {"type", e.type},
            {"param", e.param.empty() ? json() : json(e.param)},
            {"code", e.code.empty() ? json() : json(e.code)}}}};
}

std::optional<ApiError> parse_request(const json& body, bool chat, const ParseLimits& limits, uint64_t seed_default,
                                      Request& out) {
  if (!body.is_object()) return invalid("", "the request body must be a JSON object, not " + type_name(body));
  if (nesting_depth(body) > limits.max_depth) {
    return invalid("", "the request nests JSON more than " + std::to_string(limits.max_depth) + " levels deep");
  }
  Fields f(body);
  out.chat = chat;
  f.string("model", out.model);
  if (auto e = chat ? parse_chat(f, out) : parse_prompt(f, limits, out)) return e;

  f.boolean("stream", out.stream);
  if (const json* so = f.get("stream_options")) {
    if (!so->is_object()) return wrong_type("stream_options", "an object", *so);
    const json iu = so->value("include_usage", json());
    if (!iu.is_null() && !iu.is_boolean()) return wrong_type("stream_options.include_usage", "a boolean", iu);
    out.include_usage = iu.is_boolean() && iu.get<bool>();
  }
  int64_t n = 1;
  if (f.integer("n", 1, 128, n) && n != 1) return invalid("n", "only n = 1 is supported", "unsupported_value");
  if (chat) {
    bool logprobs = false;
    f.boolean("logprobs", logprobs);
    int64_t top_logprobs = 0;
    const bool has_top = f.integer("top_logprobs", 0, 20, top_logprobs);
    if (f.error) return f.error;
    if (has_top && !logprobs) return invalid("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    if (logprobs) out.logprobs = static_cast<int>(top_logprobs);
  } else {
    int64_t logprobs = 0;  // legacy completions: the number of alternatives, 0..5
    if (f.integer("logprobs", 0, 5, logprobs)) out.logprobs = static_cast<int>(logprobs);
    if (f.error) return f.error;
  }
  int64_t max_tokens = chat ? 0 : 16;  // OpenAI's defaults: chat unlimited, completions 16
  f.integer("max_tokens", 1, INT32_MAX, max_tokens);
  f.integer("max_completion_tokens", 1, INT32_MAX, max_tokens);
  out.max_tokens = static_cast<int>(max_tokens);

  SamplingParams& p = out.sampling;
  f.number("temperature", 0.0, 2.0, p.temperature);
  f.number("top_p", 0.0, 1.0, p.top_p);
  int64_t top_k = p.top_k;
  if (f.integer("top_k", 0, 1 << 20, top_k)) p.top_k = static_cast<int>(top_k);
  f.number("min_p", 0.0, 1.0, p.min_p);
  f.number("presence_penalty", -2.0, 2.0, p.presence_penalty);
  f.number("frequency_penalty", -2.0, 2.0, p.frequency_penalty);
  f.number("repetition_penalty", 0.01, 10.0, p.repetition_penalty);
  int64_t seed = 0;
  p.seed = f.integer("seed", INT64_MIN, INT64_MAX, seed) ? static_cast<uint64_t>(seed) : seed_default;
  if (f.error) return f.error;

  if (const json* lb = f.get("logit_bias")) {
    if (!lb->is_object()) return wrong_type("logit_bias", "an object mapping token ids to biases", *lb);
    for (const auto& [k, v] : lb->items()) {
      char* end = nullptr;
      const long id = std::strtol(k.c_str(), &end, 10);
      if (k.empty() || *end != '\0' || id < 0 || id >= limits.n_vocab) {
        return invalid("logit_bias", "logit_bias: '" + k + "' is not a token id of this model");
      }
      if (!v.is_number() || v.get<double>() < -100.0 || v.get<double>() > 100.0) {
        return invalid("logit_bias", "logit_bias: biases must be numbers between -100 and 100");
      }
      const double b = v.get<double>();
      // As OpenAI documents: -100 bans the token, 100 makes it the only choice.
      p.logit_bias[static_cast<int32_t>(id)] = b <= -100.0  ? -std::numeric_limits<float>::infinity()
                                               : b >= 100.0 ? 1e4f
                                                            : static_cast<float>(b);
    }
  }
  if (const json* stop = f.get("stop")) {
    std::vector<json> items = stop->is_array() ? stop->get<std::vector<json>>() : std::vector<json>{*stop};
    if (static_cast<int>(items.size()) > limits.max_stop) {
      return invalid("stop", "at most " + std::to_string(limits.max_stop) + " stop strings");
    }
    for (const json& s : items) {
      if (!s.is_string()) return wrong_type("stop", "a string or an array of strings", *stop);
      const std::string t = s.get<std::string>();
      if (t.empty() || t.size() > limits.max_stop_length) {
        return invalid("stop", "stop strings must be 1 to " + std::to_string(limits.max_stop_length) + " bytes");
      }
      out.stop.push_back(t);
    }
  }
  if (const json* rf = f.get("response_format")) {
    const json type = rf->is_object() ? rf->value("type", json()) : json();
    if (!type.is_string()) return invalid("response_format", "'response_format' must be {\"type\": ...}");
    const std::string t = type.get<std::string>();
    if (t == "json_object") {
      out.response_format = ResponseFormat::kJsonObject;
    } else if (t == "json_schema") {
      const json js = rf->value("json_schema", json());
      if (!js.is_object() || !js.contains("schema") || !(js["schema"].is_object() || js["schema"].is_boolean())) {
        return invalid("response_format.json_schema",
                       "'response_format.json_schema' must be {\"name\": ..., \"schema\": {...}}");
      }
      out.response_format = ResponseFormat::kJsonSchema;
      out.json_schema = js["schema"];
    } else if (t != "text") {
      return invalid("response_format.type", "'response_format.type' must be text, json_object or json_schema");
    }
  }
  return std::nullopt;
}

json usage_json(const Outcome& o) {
  return {{"prompt_tokens", o.prompt_tokens},
          {"completion_tokens", o.completion_tokens},
          {"total_tokens", o.prompt_tokens + o.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", o.cached_tokens}}}};
}

json timings_json(const Outcome& o) {
  const double evaluated = static_cast<double>(o.prompt_tokens - o.cached_tokens);
  const double completion = static_cast<double>(o.completion_tokens);
  return {{"prompt_n", o.prompt_tokens - o.cached_tokens},
          {"prompt_ms", o.prompt_seconds * 1e3},
          {"prompt_per_second", o.prompt_seconds > 0 ? evaluated / o.prompt_seconds : 0.0},
          {"predicted_n", o.completion_tokens},
          {"predicted_ms", o.decode_seconds * 1e3},
          {"predicted_per_second", o.decode_seconds > 0 ? completion / o.decode_seconds : 0.0}};
}

json tool_calls_json(const std::vector<ToolCall>& calls) {
  json out = json::array();
  for (const auto& c : calls) {
    const json args = c.arguments.is_null() ? json::object() : c.arguments;
    out.push_back(
        {{"id", c.id.empty() ? random_id("call_") : c.id},
         {"type", "function"},
         {"function", {{"name", c.name}, {"arguments", args.is_string() ? args.get<std::string>() : args.dump()}}}});
  }
  return out;
}

namespace {

json bytes_json(const std::string& text) {
  json b = json::array();
  for (unsigned char c : text) b.push_back(static_cast<int>(c));
  return b;
}

}  // namespace

json chat_logprobs_json(std::span<const TokenLogprob> entries, const Tokenizer& tokenizer) {
  json content = json::array();
  for (const TokenLogprob& e : entries) {
    json top = json::array();
    for (const auto& [id, lp] : e.top) {
      const std::string t = tokenizer.decode(std::span<const int32_t>(&id, 1), /*render_control=*/true);
      top.push_back({{"token", t}, {"logprob", lp}, {"bytes", bytes_json(t)}});
    }
    content.push_back(
        {{"token", e.text}, {"logprob", e.logprob}, {"bytes", bytes_json(e.text)}, {"top_logprobs", top}});
  }
  return {{"content", content}};
}

json completion_logprobs_json(std::span<const TokenLogprob> entries, const Tokenizer& tokenizer, int64_t offset0) {
  json tokens = json::array(), lps = json::array(), tops = json::array(), offsets = json::array();
  int64_t at = offset0;
  for (const TokenLogprob& e : entries) {
    tokens.push_back(e.text);
    lps.push_back(e.logprob);
    json top = json::object();
    for (const auto& [id, lp] : e.top) {
      top[tokenizer.decode(std::span<const int32_t>(&id, 1), /*render_control=*/true)] = lp;
    }
    tops.push_back(top);
    offsets.push_back(at);
    at += static_cast<int64_t>(e.text.size());
  }
  return {{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

json chat_response(const Envelope& env, const Outcome& o, const Tokenizer& tokenizer) {
  json msg = {{"role", "assistant"},
              {"content", o.content.empty() && !o.tool_calls.empty() ? json() : json(o.content)}};
  if (!o.reasoning.empty()) msg["reasoning_content"] = o.reasoning;
  if (!o.tool_calls.empty()) msg["tool_calls"] = tool_calls_json(o.tool_calls);
  return {{"id", env.id},
          {"object", "chat.completion"},
          {"created", env.created},
          {"model", env.model},
          {"system_fingerprint", "pocket"},
          {"choices", json::array({{{"index", 0},
                                    {"message", msg},
                                    {"logprobs", o.with_logprobs ? chat_logprobs_json(o.logprobs, tokenizer) : json()},
                                    {"finish_reason", o.finish_reason}}})},
          {"usage", usage_json(o)},
          {"timings", timings_json(o)}};
}

json completion_response(const Envelope& env, const Outcome& o, const Tokenizer& tokenizer) {
  return {{"id", env.id},
          {"object", "text_completion"},
          {"created", env.created},
          {"model", env.model},
          {"system_fingerprint", "pocket"},
          {"choices",
           json::array({{{"index", 0},
                         {"text", o.content},
                         {"logprobs", o.with_logprobs ? completion_logprobs_json(o.logprobs, tokenizer, 0) : json()},
                         {"finish_reason", o.finish_reason}}})},
          {"usage", usage_json(o)},
          {"timings", timings_json(o)}};
}

json chat_chunk(const Envelope& env, json delta, const char* finish_reason, json logprobs) {
  return {{"id", env.id},
          {"object", "chat.completion.chunk"},
          {"created", env.created},
          {"model", env.model},
          {"system_fingerprint", "pocket"},
          {"choices", json::array({{{"index", 0},
                                    {"delta", std::move(delta)},
                                    {"logprobs", std::move(logprobs)},
                                    {"finish_reason", finish_reason ? json(finish_reason) : json()}}})}};
}

json completion_chunk(const Envelope& env, const std::string& text, const char* finish_reason, json logprobs) {
  return {{"id", env.id},
          {"object", "text_completion"},
          {"created", env.created},
          {"model", env.model},
          {"system_fingerprint", "pocket"},
          {"choices", json::array({{{"index", 0},
                                    {"text", text},
                                    {"logprobs", std::move(logprobs)},
                                    {"finish_reason", finish_reason ? json(finish_reason) : json()}}})}};
}

std::string to_text(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string sse_event(const json& j) { return "data: " + to_text(j) + "\n\n"; }

std::string random_id(const std::string& prefix) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id = prefix;
  for (int i = 0; i < 24; ++i) id += kChars[rng() % (sizeof(kChars) - 1)];
  return id;
}

}  // namespace pocket::server
