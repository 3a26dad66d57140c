// Parsing of Gemma 4 model output: thought channel, native tool calls, answer text.
#include <cctype>

#include "text/chat_format.h"

namespace pocket {
namespace {

using nlohmann::json;

using chat_markers::kQuote;
using chat_markers::kThoughtOpen;
using chat_markers::kThoughtClose;
using chat_markers::kCallOpen;
using chat_markers::kCallClose;
constexpr int kMaxDepth = 64;

// Recursive-descent parser for the native value syntax, reading from the start of `s`; pos() tells
// where the value ended.
class ValueParser {
 public:
  explicit ValueParser(std::string_view s) : s_(s) {}

  Result<json> parse_all() {
    auto v = value(0);
    if (!v) return v;
    skip_ws();
    if (pos_ != s_.size()) return fail("unexpected text after the value");
    return v;
  }
  Result<json> value(int depth) {
    if (depth > kMaxDepth) return fail("nesting too deep");
    skip_ws();
    if (pos_ >= s_.size()) return fail("missing value");
    if (s_.substr(pos_, kQuote.size()) == kQuote) return string_value();
    const char c = s_[pos_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (word("true")) return json(true);
    if (word("false")) return json(false);
    if (word("null")) return json(nullptr);
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) return number();
    return fail("unexpected character '" + std::string(1, c) + "'");
  }
  size_t pos() const { return pos_; }

 private:
  Error fail(const std::string& why) const {
    return Error{"tool call syntax: " + why + " at offset " + std::to_string(pos_)};
  }
  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool word(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    const size_t end = pos_ + w.size();
    if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_')) return false;
    pos_ = end;
    return true;
  }
  Result<json> string_value() {
    pos_ += kQuote.size();
    const size_t end = s_.find(kQuote, pos_);
    if (end == std::string_view::npos) return fail("unterminated string");
    json v = std::string(s_.substr(pos_, end - pos_));
    pos_ = end + kQuote.size();
    return v;
  }
  Result<json> number() {
    const size_t b = pos_;
    while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '-' ||
                                s_[pos_] == '+' || s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
    }
    const std::string t(s_.substr(b, pos_ - b));
    json v = json::parse(t, nullptr, /*allow_exceptions=*/false);
    if (!v.is_number()) {
      pos_ = b;
      return fail("bad number '" + t + "'");
    }
    return v;
  }
  Result<json> array(int depth) {
    ++pos_;
    json arr = json::array();
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') return ++pos_, arr;
    for (;;) {
      auto v = value(depth + 1);
      if (!v) return v;
      arr.push_back(std::move(v).value());
      skip_ws();
      if (pos_ >= s_.size()) return fail("unterminated array");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == ']') return ++pos_, arr;
      return fail("expected ',' or ']'");
    }
  }
  Result<json> object(int depth) {
    ++pos_;
    json obj = json::object();
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') return ++pos_, obj;
    for (;;) {
      skip_ws();
      std::string key;
      if (s_.substr(pos_, kQuote.size()) == kQuote) {
        auto k = string_value();
        if (!k) return k;
        key = k->get<std::string>();
      } else {
        const size_t b = pos_;
        while (pos_ < s_.size() && s_[pos_] != ':' && s_[pos_] != ',' && s_[pos_] != '}' && s_[pos_] != '{' &&
               s_[pos_] != '[' && s_[pos_] != ']' && s_.substr(pos_, kQuote.size()) != kQuote) {
          ++pos_;
        }
        key = std::string(s_.substr(b, pos_ - b));
        while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
        if (key.empty()) return fail("missing object key");
      }
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':' after key '" + key + "'");
      ++pos_;
      auto v = value(depth + 1);
      if (!v) return v;
      obj[key] = std::move(v).value();
      skip_ws();
      if (pos_ >= s_.size()) return fail("unterminated object");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') return ++pos_, obj;
      return fail("expected ',' or '}'");
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

Result<json> parse_tool_value(std::string_view text) { return ValueParser(text).parse_all(); }

Result<ParsedReply> parse_model_output(std::string_view text) {
  ParsedReply r;
  std::string content;
  size_t i = 0;
  while (i < text.size()) {
    const size_t think = text.find(kThoughtOpen, i);
    const size_t call = text.find(kCallOpen, i);
    const size_t next = std::min(think, call);
    if (next == std::string_view::npos) {
      content.append(text.substr(i));
      break;
    }
    content.append(text.substr(i, next - i));
    if (next == think) {
      // <|channel>thought\n … <channel|>; an unterminated thought (cut-off output) runs to the end.
      size_t b = next + kThoughtOpen.size();
      if (text.substr(b, 7) == "thought") b += 7;
      if (b < text.size() && text[b] == '\n') ++b;
      const size_t close = text.find(kThoughtClose, b);
      const size_t end = close == std::string_view::npos ? text.size() : close;
      const std::string thought = trim(text.substr(b, end - b));
      if (!thought.empty()) r.thinking += (r.thinking.empty() ? "" : "\n") + thought;
      i = close == std::string_view::npos ? text.size() : close + kThoughtClose.size();
      continue;
    }
    // <|tool_call>call:NAME{…}<tool_call|>; the closing marker may be missing at the very end.
    const std::string where = "tool call " + std::to_string(r.tool_calls.size() + 1);
    size_t b = next + kCallOpen.size();
    if (text.substr(b, 5) != "call:") return Error{where + ": expected 'call:' after <|tool_call>"};
    b += 5;
    size_t brace = b;
    while (brace < text.size() && text[brace] != '{' && text.substr(brace, kCallClose.size()) != kCallClose) ++brace;
    if (brace >= text.size() || text[brace] != '{') return Error{where + ": missing '{' after the tool name"};
    ToolCall c;
    c.name = trim(text.substr(b, brace - b));
    if (c.name.empty()) return Error{where + ": empty tool name"};
    ValueParser parser(text.substr(brace));
    auto args = parser.value(0);
    if (!args) return Error{args.error().message + " (in " + where + ", '" + c.name + "')"};
    size_t end = brace + parser.pos();
    while (end < text.size() && std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    if (text.substr(end, kCallClose.size()) == kCallClose) {
      end += kCallClose.size();
    } else if (end < text.size()) {
      return Error{where + " ('" + c.name + "'): expected <tool_call|> after the arguments"};
    }
    c.arguments = std::move(args).value();
    r.tool_calls.push_back(std::move(c));
    i = end;
  }
  // End-of-turn and tool-response markers are not part of the answer.
  for (std::string_view marker : {"<turn|>", "<|tool_response>", "<eos>"}) {
    for (size_t p; (p = content.find(marker)) != std::string::npos;) content.erase(p, marker.size());
  }
  r.content = trim(content);
  return r;
}

}  // namespace pocket
