#include "triage/text_decode.h"

#include <array>
#include <cctype>

namespace pocket::triage {
namespace {

// Windows-1252 bytes 0x80..0x9F (the rest of the high half equals Latin-1 = U+00A0..U+00FF).
// 0 marks the five undefined bytes, which become U+FFFD.
constexpr std::array<uint16_t, 32> kCp1252High = {0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                                  0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
                                                  0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                                  0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

std::string decode_cp1252(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 4);
  for (char ch : bytes) append_utf8(out, cp1252_to_unicode(static_cast<uint8_t>(ch)));
  return out;
}

// ISO-8859-15: Latin-1 with eight code points replaced (euro sign, Š š Ž ž Œ œ Ÿ).
std::string decode_latin9(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 4);
  for (char ch : bytes) {
    const auto b = static_cast<uint8_t>(ch);
    uint32_t cp = b;
    switch (b) {
      case 0xA4:
        cp = 0x20AC;
        break;
      case 0xA6:
        cp = 0x0160;
        break;
      case 0xA8:
        cp = 0x0161;
        break;
      case 0xB4:
        cp = 0x017D;
        break;
      case 0xB8:
        cp = 0x017E;
        break;
      case 0xBC:
        cp = 0x0152;
        break;
      case 0xBD:
        cp = 0x0153;
        break;
      case 0xBE:
        cp = 0x0178;
        break;
      default:
        break;
    }
    append_utf8(out, cp);
  }
  return out;
}

// UTF-16 code units (after any BOM) → UTF-8; unpaired surrogates become U+FFFD, an odd last byte is
// dropped.
std::string decode_utf16(std::string_view bytes, bool big_endian) {
  std::string out;
  out.reserve(bytes.size());
  auto unit = [&](size_t i) -> uint32_t {
    const auto a = static_cast<uint8_t>(bytes[i]);
    const auto b = static_cast<uint8_t>(bytes[i + 1]);
    return big_endian ? (uint32_t{a} << 8 | b) : (uint32_t{b} << 8 | a);
  };
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
    const uint32_t u = unit(i);
    if (u >= 0xD800 && u < 0xDC00 && i + 3 < bytes.size()) {
      const uint32_t lo = unit(i + 2);
      if (lo >= 0xDC00 && lo < 0xE000) {
        append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
        i += 2;
        continue;
      }
    }
    append_utf8(out, (u >= 0xD800 && u < 0xE000) ? 0xFFFD : u);
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Length of the UTF-8 sequence starting at s[i] if it is well-formed, else 0.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  uint32_t min = 0;
  uint32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, min = 0x80, cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, min = 0x800, cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, min = 0x10000, cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) return 0;
  return n;
}

}  // namespace

uint32_t cp1252_to_unicode(uint8_t byte) {
  if (byte < 0x80 || byte >= 0xA0) return byte;
  const uint16_t cp = kCp1252High[byte - 0x80];
  return cp == 0 ? 0xFFFD : cp;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

DecodedText decode_text_bytes(std::span<const uint8_t> bytes) {
  const std::string_view s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (s.size() >= 3 && s.substr(0, 3) == "\xEF\xBB\xBF") {
    const std::string_view rest = s.substr(3);
    if (is_valid_utf8(rest)) return {std::string(rest), "utf-8-bom"};
    return {decode_cp1252(rest), "windows-1252"};
  }
  if (s.size() >= 2 && s.substr(0, 2) == "\xFF\xFE") return {decode_utf16(s.substr(2), false), "utf-16le"};
  if (s.size() >= 2 && s.substr(0, 2) == "\xFE\xFF") return {decode_utf16(s.substr(2), true), "utf-16be"};
  if (is_valid_utf8(s)) return {std::string(s), "utf-8"};
  return {decode_cp1252(s), "windows-1252"};
}

std::string decode_charset(std::string_view bytes, std::string_view charset) {
  const std::string cs = lower(charset);
  // As browsers do (WHATWG Encoding): Latin-1 and ASCII labels mean Windows-1252 — mailers that
  // declare iso-8859-1 routinely send 0x80 for the euro sign and 0x93/0x94 for quotes. Valid UTF-8
  // under a wrong ASCII label stays UTF-8.
  if (cs == "us-ascii" || cs == "ascii") {
    if (is_valid_utf8(bytes)) return std::string(bytes);
    return decode_cp1252(bytes);
  }
  if (cs == "iso-8859-1" || cs == "latin1" || cs == "latin-1" || cs == "iso8859-1" || cs == "l1" ||
      cs == "windows-1252" || cs == "cp1252" || cs == "x-cp1252") {
    return decode_cp1252(bytes);
  }
  if (cs == "iso-8859-15" || cs == "latin-9") return decode_latin9(bytes);
  if (cs == "utf-16le") return decode_utf16(bytes, false);
  if (cs == "utf-16be") return decode_utf16(bytes, true);
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  return decode_text_bytes({p, bytes.size()}).text;
}

std::string to_valid_utf8(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  return decode_cp1252(s);
}

std::string clean_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (b == '\r' || b == '\n' || b == '\f' || b == '\v') {
      if (b == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      // Trailing blanks go; at most one empty line in a row (mail and HTML bodies pad heavily).
      while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
      const size_t n = out.size();
      if (n >= 2 && out[n - 1] == '\n' && out[n - 2] == '\n') continue;
      out.push_back('\n');
    } else if (b == '\t' || b >= 0x20) {
      if (b == 0x7F) continue;
      // C1 controls U+0080..U+009F arrive as C2 80..C2 9F.
      if (b == 0xC2 && i + 1 < s.size() && static_cast<uint8_t>(s[i + 1]) >= 0x80 &&
          static_cast<uint8_t>(s[i + 1]) < 0xA0) {
        ++i;
        continue;
      }
      out.push_back(static_cast<char>(b));
    }
  }
  return out;
}

bool truncate_utf8(std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return false;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<uint8_t>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return true;
}

}  // namespace pocket::triage
