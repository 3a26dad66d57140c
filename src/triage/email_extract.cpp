// Internet messages (.eml, mbox-style files): headers, the readable body and a list of attachments.
// MIME handling follows RFC 2045-2047 and 2231 closely enough for real mail (the SpamAssassin corpus
// is the test bed): folded headers, encoded words, quoted-printable and base64 bodies, nested
// multiparts. Attachments are sized and listed, never extracted or opened.
#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "triage/extract_formats.h"
#include "triage/text_decode.h"

namespace pocket::triage {
namespace {

constexpr int kMaxMimeDepth = 16;
constexpr size_t kMaxParts = 1000;
constexpr size_t kMaxHeaderLines = 2000;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Next line of `s` from `pos` (without its \n or \r\n); advances pos past the line end.
std::string_view next_line(std::string_view s, size_t& pos) {
  const size_t start = pos;
  size_t end = s.find('\n', pos);
  if (end == std::string_view::npos) end = s.size();
  pos = end < s.size() ? end + 1 : s.size();
  std::string_view line = s.substr(start, end - start);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

struct Headers {
  std::vector<std::pair<std::string, std::string>> fields;  // lower-case name, unfolded raw value

  std::string get(std::string_view name) const {
    for (const auto& [k, v] : fields) {
      if (k == name) return v;
    }
    return "";
  }
};

// Parses the header block at the start of `msg`; `body_start` receives the offset after the blank line.
Headers parse_headers(std::string_view msg, size_t& body_start) {
  Headers h;
  size_t pos = 0;
  if (msg.substr(0, 5) == "From ") next_line(msg, pos);  // mbox separator line
  while (pos < msg.size() && h.fields.size() < kMaxHeaderLines) {
    const size_t line_start = pos;
    const std::string_view line = next_line(msg, pos);
    if (line.empty()) break;
    if ((line[0] == ' ' || line[0] == '\t')) {
      if (!h.fields.empty()) {
        h.fields.back().second += ' ';
        h.fields.back().second += trim(line);
      }
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line.substr(0, colon).find(' ') != std::string_view::npos) {
      pos = line_start;  // not a header: the body starts here (malformed message without a blank line)
      break;
    }
    h.fields.emplace_back(lower(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
  }
  body_start = pos;
  return h;
}

std::string decode_base64(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = -1;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=')
      break;
    if (v < 0) continue;  // line breaks and junk between groups
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Quoted-printable (RFC 2045 §6.7); `header` selects the RFC 2047 "Q" variant where '_' is a space.
std::string decode_quoted_printable(std::string_view in, bool header) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '=' && i + 1 < in.size()) {
      if (in[i + 1] == '\n') {  // soft line break
        ++i;
        continue;
      }
      if (in[i + 1] == '\r' && i + 2 < in.size() && in[i + 2] == '\n') {
        i += 2;
        continue;
      }
      if (i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
        out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
        i += 2;
        continue;
      }
    }
    out.push_back(header && c == '_' ? ' ' : c);
  }
  return out;
}

// RFC 2047 encoded words (=?charset?B|Q?text?=) in a header value → UTF-8; the rest of the value is
// decoded as UTF-8 or, failing that, Windows-1252. Blanks between two encoded words are dropped.
std::string decode_header_value(std::string_view v) {
  std::string out;
  size_t i = 0;
  bool last_was_word = false;
  while (i < v.size()) {
    const size_t start = v.find("=?", i);
    if (start == std::string_view::npos) {
      out += decode_charset(v.substr(i), "");
      break;
    }
    const size_t q1 = v.find('?', start + 2);
    const size_t q2 = q1 == std::string_view::npos ? q1 : v.find('?', q1 + 1);
    const size_t end = q2 == std::string_view::npos ? q2 : v.find("?=", q2 + 1);
    if (end == std::string_view::npos || q2 != q1 + 2) {
      out += decode_charset(v.substr(i, start + 2 - i), "");
      i = start + 2;
      last_was_word = false;
      continue;
    }
    const std::string_view between = v.substr(i, start - i);
    if (!(last_was_word && trim(between).empty())) out += decode_charset(between, "");
    std::string charset = lower(v.substr(start + 2, q1 - start - 2));
    if (const size_t star = charset.find('*'); star != std::string::npos) charset.resize(star);  // RFC 2231 language
    const char enc = static_cast<char>(std::toupper(static_cast<unsigned char>(v[q1 + 1])));
    const std::string_view payload = v.substr(q2 + 1, end - q2 - 1);
    const std::string raw = enc == 'B' ? decode_base64(payload) : decode_quoted_printable(payload, true);
    out += decode_charset(raw, charset);
    i = end + 2;
    last_was_word = true;
  }
  return out;
}

// "type/subtype; key=value; key*=utf-8''percent%20encoded" → lower-case type and parameters.
struct ParamHeader {
  std::string value;
  std::map<std::string, std::string> params;
};

ParamHeader parse_param_header(std::string_view v) {
  ParamHeader h;
  size_t i = v.find(';');
  h.value = lower(trim(v.substr(0, i)));
  while (i != std::string_view::npos && i < v.size()) {
    ++i;
    const size_t eq = v.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key = lower(trim(v.substr(i, eq - i)));
    size_t j = eq + 1;
    while (j < v.size() && (v[j] == ' ' || v[j] == '\t')) ++j;
    std::string value;
    if (j < v.size() && v[j] == '"') {
      ++j;
      while (j < v.size() && v[j] != '"') {
        if (v[j] == '\\' && j + 1 < v.size()) ++j;
        value.push_back(v[j++]);
      }
      i = v.find(';', j);
    } else {
      i = v.find(';', j);
      value = std::string(trim(v.substr(j, i == std::string_view::npos ? std::string_view::npos : i - j)));
    }
    if (!key.empty() && key.back() == '*') {  // RFC 2231: charset'language'percent-encoded
      key.pop_back();
      const size_t a1 = value.find('\'');
      const size_t a2 = a1 == std::string::npos ? a1 : value.find('\'', a1 + 1);
      if (a2 != std::string::npos) {
        const std::string charset = value.substr(0, a1);
        std::string raw;
        for (size_t k = a2 + 1; k < value.size(); ++k) {
          if (value[k] == '%' && k + 2 < value.size() && hex_value(value[k + 1]) >= 0 && hex_value(value[k + 2]) >= 0) {
            raw.push_back(static_cast<char>(hex_value(value[k + 1]) * 16 + hex_value(value[k + 2])));
            k += 2;
          } else {
            raw.push_back(value[k]);
          }
        }
        value = decode_charset(raw, charset);
      }
    }
    if (!key.empty() && h.params.size() < 64) h.params.emplace(std::move(key), std::move(value));
  }
  return h;
}

struct MailContent {
  std::string plain;
  std::string html;
  std::vector<Attachment> attachments;
  size_t parts = 0;
};

std::string decode_transfer(std::string_view body, const std::string& encoding) {
  if (encoding == "base64") return decode_base64(body);
  if (encoding == "quoted-printable") return decode_quoted_printable(body, false);
  return std::string(body);
}

void walk_part(const Headers& headers, std::string_view body, int depth, MailContent& mail);

void walk_multipart(std::string_view body, const std::string& boundary, int depth, MailContent& mail) {
  const std::string delimiter = "--" + boundary;
  std::vector<std::string_view> parts;
  size_t pos = 0;
  size_t part_start = std::string_view::npos;
  while (pos < body.size()) {
    const size_t line_start = pos;
    const std::string_view line = next_line(body, pos);
    if (line.size() >= delimiter.size() && line.substr(0, delimiter.size()) == delimiter) {
      const std::string_view rest = trim(line.substr(delimiter.size()));
      if (!rest.empty() && rest != "--") continue;  // a longer boundary that merely starts alike
      if (part_start != std::string_view::npos) {
        size_t end = line_start;  // the line break before the delimiter belongs to it
        if (end > part_start && body[end - 1] == '\n') --end;
        if (end > part_start && body[end - 1] == '\r') --end;
        parts.push_back(body.substr(part_start, end - part_start));
      }
      if (rest == "--") {
        part_start = std::string_view::npos;
        break;
      }
      part_start = pos;
    }
  }
  if (part_start != std::string_view::npos && part_start < body.size()) parts.push_back(body.substr(part_start));
  for (std::string_view part : parts) {
    if (mail.parts >= kMaxParts) return;
    size_t body_start = 0;
    const Headers h = parse_headers(part, body_start);
    walk_part(h, part.substr(body_start), depth + 1, mail);
  }
}

void walk_part(const Headers& headers, std::string_view body, int depth, MailContent& mail) {
  ++mail.parts;
  std::string ctype_raw = headers.get("content-type");
  const ParamHeader ctype = parse_param_header(ctype_raw.empty() ? "text/plain" : ctype_raw);
  const ParamHeader disposition = parse_param_header(headers.get("content-disposition"));
  const std::string encoding = lower(trim(headers.get("content-transfer-encoding")));
  std::string filename;
  if (auto it = disposition.params.find("filename"); it != disposition.params.end()) filename = it->second;
  if (auto it = ctype.params.find("name"); filename.empty() && it != ctype.params.end()) filename = it->second;
  filename = decode_header_value(filename);
  const std::string& type = ctype.value;

  if (type.rfind("multipart/", 0) == 0 && depth < kMaxMimeDepth) {
    if (auto it = ctype.params.find("boundary"); it != ctype.params.end() && !it->second.empty()) {
      walk_multipart(body, it->second, depth, mail);
      return;
    }
  }
  const bool is_text = type == "text/plain" || type == "text/html" || type.empty();
  const bool attachment = disposition.value == "attachment" || (!filename.empty() && !is_text) ||
                          type == "message/rfc822" || (!is_text && type.rfind("multipart/", 0) != 0);
  const std::string decoded = decode_transfer(body, encoding);
  if (attachment) {
    Attachment a;
    a.name = filename;
    a.mime = type.empty() ? "application/octet-stream" : to_valid_utf8(type);
    if (a.name.empty() && type == "message/rfc822") {
      size_t inner_start = 0;
      a.name = "forwarded message: " + decode_header_value(parse_headers(decoded, inner_start).get("subject"));
    }
    a.size = decoded.size();
    mail.attachments.push_back(std::move(a));
    return;
  }
  std::string charset;
  if (auto it = ctype.params.find("charset"); it != ctype.params.end()) charset = it->second;
  const std::string text = decode_charset(decoded, charset);
  std::string& target = type == "text/html" ? mail.html : mail.plain;
  if (!target.empty()) target += "\n\n";
  target += text;
}

}  // namespace

bool looks_like_email(std::string_view bytes) {
  size_t body_start = 0;
  const Headers h = parse_headers(bytes.substr(0, std::min<size_t>(bytes.size(), 64 * 1024)), body_start);
  if (h.fields.size() < 2) return false;
  const bool from = !h.get("from").empty();
  const bool subject_or_date = !h.get("subject").empty() || !h.get("date").empty();
  // A header block ends with a blank line; a file that is all "key: value" lines is not a mail.
  return from && subject_or_date && body_start < bytes.size();
}

void extract_email(std::string_view bytes, ExtractedInput& out) {
  out.format = "eml";
  size_t body_start = 0;
  const Headers headers = parse_headers(bytes, body_start);
  MailContent mail;
  walk_part(headers, bytes.substr(body_start), 0, mail);

  std::string text;
  for (const char* name : {"from", "to", "cc", "subject", "date"}) {
    const std::string v = headers.get(name);
    if (v.empty()) continue;
    std::string label(name);
    label[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(label[0])));
    text += label + ": " + decode_header_value(v) + "\n";
  }
  std::string body = mail.plain;
  if (trim(body).empty() && !mail.html.empty()) body = html_to_text(mail.html);
  text += "\n";
  text += trim(body);
  if (!mail.attachments.empty()) {
    text += "\n\nAttachments:\n";
    for (const Attachment& a : mail.attachments) {
      text += "- " + (a.name.empty() ? std::string("(unnamed)") : a.name) + " (" + a.mime + ", " +
              std::to_string(a.size) + " bytes)\n";
    }
  }
  out.text = std::move(text);
  out.attachments = std::move(mail.attachments);
  out.source_encoding = "mime";
  out.kind = InputKind::kText;
}

}  // namespace pocket::triage
