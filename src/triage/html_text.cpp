// HTML → text with a small forgiving scanner (no DOM): real-world mail HTML is rarely well-formed, so
// this never fails — unknown constructs are skipped or kept as text, and every loop advances.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <string>
#include <string_view>

#include "triage/extract_formats.h"
#include "triage/text_decode.h"

namespace pocket::triage {
namespace {

struct NamedEntity {
  std::string_view name;
  uint32_t cp;
};

// The named references that occur in ordinary prose and mail (the full HTML5 table has 2,231).
constexpr std::array<NamedEntity, 44> kEntities = {{
    {"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},     {"apos", '\''},    {"nbsp", 0xA0},
    {"copy", 0xA9},    {"reg", 0xAE},     {"trade", 0x2122}, {"mdash", 0x2014}, {"ndash", 0x2013}, {"hellip", 0x2026},
    {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"laquo", 0xAB},   {"raquo", 0xBB},
    {"bull", 0x2022},  {"middot", 0xB7},  {"euro", 0x20AC},  {"pound", 0xA3},   {"yen", 0xA5},     {"cent", 0xA2},
    {"sect", 0xA7},    {"deg", 0xB0},     {"plusmn", 0xB1},  {"times", 0xD7},   {"divide", 0xF7},  {"frac12", 0xBD},
    {"eacute", 0xE9},  {"egrave", 0xE8},  {"agrave", 0xE0},  {"aacute", 0xE1},  {"ccedil", 0xE7},  {"uuml", 0xFC},
    {"ouml", 0xF6},    {"auml", 0xE4},    {"szlig", 0xDF},   {"ntilde", 0xF1},  {"iacute", 0xED},  {"oacute", 0xF3},
    {"uacute", 0xFA},  {"shy", 0xAD},
}};

bool starts_with_ci(std::string_view s, size_t pos, std::string_view prefix) {
  if (pos + prefix.size() > s.size()) return false;
  for (size_t k = 0; k < prefix.size(); ++k) {
    if (std::tolower(static_cast<unsigned char>(s[pos + k])) != prefix[k]) return false;
  }
  return true;
}

size_t find_ci(std::string_view s, size_t from, std::string_view needle) {
  for (size_t i = from; i + needle.size() <= s.size(); ++i) {
    if (starts_with_ci(s, i, needle)) return i;
  }
  return std::string_view::npos;
}

bool is_block(std::string_view tag) {
  static constexpr std::array<std::string_view, 30> kBlocks = {
      "p",       "div",   "br",   "tr", "table", "ul",  "ol",         "li",      "h1",     "h2",
      "h3",      "h4",    "h5",   "h6", "hr",    "pre", "section",    "article", "header", "footer",
      "address", "title", "form", "dl", "dt",    "dd",  "blockquote", "nav",     "main",   "figure"};
  return std::find(kBlocks.begin(), kBlocks.end(), tag) != kBlocks.end();
}

bool is_raw_text(std::string_view tag) {
  return tag == "script" || tag == "style" || tag == "template" || tag == "noscript" || tag == "svg" ||
         tag == "iframe" || tag == "object";
}

// Builds the output with whitespace collapsed: pending blanks become one space before the next word,
// and line breaks are limited to one blank line in a row.
class TextSink {
 public:
  void text(std::string_view s, bool preformatted) {
    for (char c : s) {
      if (preformatted) {
        flush_space();
        out_.push_back(c);
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        pending_space_ = !out_.empty() && out_.back() != '\n';
      } else {
        flush_space();
        out_.push_back(c);
      }
    }
  }
  void code_point(uint32_t cp, bool preformatted) {
    if (cp == 0xA0) {  // a no-break space is still a space for the reader
      text(" ", preformatted);
      return;
    }
    flush_space();
    append_utf8(out_, cp);
  }
  // Ends the line; `blank_line` asks for an empty line after it (paragraphs, headings).
  void line_break(bool blank_line) {
    pending_space_ = false;
    while (!out_.empty() && out_.back() == ' ') out_.pop_back();
    if (out_.empty()) return;
    const size_t want = blank_line ? 2 : 1;
    size_t have = 0;
    while (have < out_.size() && out_[out_.size() - 1 - have] == '\n') ++have;
    for (; have < want; ++have) out_.push_back('\n');
  }
  void cell_separator() {
    pending_space_ = false;
    if (!out_.empty() && out_.back() != '\n' && out_.back() != '\t') out_.push_back('\t');
  }
  void prefix(std::string_view s) {
    flush_space();
    out_ += s;
  }
  std::string take() {
    while (!out_.empty() && (out_.back() == '\n' || out_.back() == ' ' || out_.back() == '\t')) out_.pop_back();
    return std::move(out_);
  }

 private:
  void flush_space() {
    if (pending_space_ && !out_.empty() && out_.back() != '\n' && out_.back() != '\t') out_.push_back(' ');
    pending_space_ = false;
  }
  std::string out_;
  bool pending_space_ = false;
};

// Decodes the character reference at html[i] == '&'; returns the bytes consumed (0 = not a reference).
size_t decode_reference(std::string_view html, size_t i, uint32_t& cp) {
  size_t j = i + 1;
  if (j < html.size() && html[j] == '#') {
    ++j;
    const bool hex = j < html.size() && (html[j] == 'x' || html[j] == 'X');
    if (hex) ++j;
    const size_t start = j;
    uint64_t value = 0;
    while (j < html.size() && j - start < 8 &&
           (hex ? std::isxdigit(static_cast<unsigned char>(html[j]))
                : std::isdigit(static_cast<unsigned char>(html[j])))) {
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(html[j])));
      value = value * (hex ? 16 : 10) + static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
      ++j;
    }
    if (j == start) return 0;
    if (j < html.size() && html[j] == ';') ++j;
    cp = (value == 0 || value > 0x10FFFF) ? 0xFFFD : static_cast<uint32_t>(value);
    // Numeric references to 0x80..0x9F mean Windows-1252 in practice (HTML5 says so too).
    if (cp >= 0x80 && cp < 0xA0) cp = cp1252_to_unicode(static_cast<uint8_t>(cp));
    return j - i;
  }
  size_t k = j;
  while (k < html.size() && k - j < 10 && std::isalnum(static_cast<unsigned char>(html[k]))) ++k;
  const std::string_view name = html.substr(j, k - j);
  for (const NamedEntity& e : kEntities) {
    if (e.name == name) {
      cp = e.cp;
      if (k < html.size() && html[k] == ';') ++k;
      return k - i;
    }
  }
  return 0;
}

}  // namespace

std::string html_to_text(std::string_view html) {
  TextSink sink;
  int pre_depth = 0;
  size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '&') {
      uint32_t cp = 0;
      if (const size_t used = decode_reference(html, i, cp); used > 0) {
        sink.code_point(cp, pre_depth > 0);
        i += used;
        continue;
      }
      sink.text("&", pre_depth > 0);
      ++i;
      continue;
    }
    if (c != '<') {
      size_t j = i;
      while (j < html.size() && html[j] != '<' && html[j] != '&') ++j;
      sink.text(html.substr(i, j - i), pre_depth > 0);
      i = j;
      continue;
    }
    // Markup.
    if (html.compare(i, 4, "<!--") == 0) {
      const size_t end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    if (html.compare(i, 9, "<![CDATA[") == 0) {
      const size_t end = html.find("]]>", i + 9);
      const size_t stop = end == std::string_view::npos ? html.size() : end;
      sink.text(html.substr(i + 9, stop - i - 9), pre_depth > 0);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    size_t j = i + 1;
    const bool closing = j < html.size() && html[j] == '/';
    if (closing) ++j;
    const bool declaration = j < html.size() && (html[j] == '!' || html[j] == '?');
    const size_t name_start = j;
    while (j < html.size() && (std::isalnum(static_cast<unsigned char>(html[j])) || html[j] == ':')) ++j;
    if (!declaration && j == name_start) {  // "<" that starts no tag ("a < b") is text
      sink.text("<", pre_depth > 0);
      ++i;
      continue;
    }
    std::string tag(html.substr(name_start, j - name_start));
    for (char& ch : tag) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    // Skip attributes up to the closing '>', honouring quotes.
    char quote = 0;
    while (j < html.size()) {
      const char ch = html[j];
      if (quote != 0) {
        if (ch == quote) quote = 0;
      } else if (ch == '"' || ch == '\'') {
        quote = ch;
      } else if (ch == '>') {
        break;
      }
      ++j;
    }
    const bool self_closing = j > 0 && j < html.size() && html[j - 1] == '/';
    i = j < html.size() ? j + 1 : html.size();
    if (declaration) continue;
    if (!closing && !self_closing && is_raw_text(tag)) {
      const size_t end = find_ci(html, i, "</" + tag);
      if (end == std::string_view::npos) {
        i = html.size();
      } else {
        const size_t gt = html.find('>', end);
        i = gt == std::string_view::npos ? html.size() : gt + 1;
      }
      continue;
    }
    if (tag == "pre") pre_depth = std::max(0, pre_depth + (closing ? -1 : 1));
    if (tag == "td" || tag == "th") {
      if (!closing) sink.cell_separator();
    } else if (tag == "li" && !closing) {
      sink.line_break(false);
      sink.prefix("- ");
    } else if (tag == "br" || tag == "tr" || tag == "li" || tag == "dt" || tag == "dd") {
      sink.line_break(false);
    } else if (is_block(tag)) {
      sink.line_break(tag != "div" && tag != "table" && tag != "ul" && tag != "ol");
    }
  }
  return sink.take();
}

std::string html_declared_charset(std::string_view html) {
  const std::string_view head = html.substr(0, std::min<size_t>(html.size(), 8192));
  const size_t at = find_ci(head, 0, "charset=");
  if (at == std::string_view::npos) return "";
  size_t j = at + 8;
  while (j < head.size() && (head[j] == '"' || head[j] == '\'' || head[j] == ' ')) ++j;
  size_t k = j;
  while (k < head.size() && (std::isalnum(static_cast<unsigned char>(head[k])) || head[k] == '-' || head[k] == '_')) {
    ++k;
  }
  return std::string(head.substr(j, k - j));
}

void extract_html(std::string_view bytes, ExtractedInput& out) {
  out.format = "html";
  if (is_valid_utf8(bytes)) {
    out.source_encoding = "utf-8";
    out.text = html_to_text(bytes);
  } else {
    std::string charset = html_declared_charset(bytes);
    if (charset.empty() || charset == "utf-8" || charset == "UTF-8") charset = "windows-1252";
    out.source_encoding = charset;
    out.text = html_to_text(decode_charset(bytes, charset));
  }
  out.kind = InputKind::kText;
}

}  // namespace pocket::triage
