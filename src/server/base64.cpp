#include "server/base64.h"

#include <string>

namespace pocket::server {

Result<std::vector<uint8_t>> base64_decode(std::string_view text, size_t max_bytes) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::vector<uint8_t> out;
  out.reserve(std::min(max_bytes, text.size() / 4 * 3 + 3));
  uint32_t acc = 0;
  int bits = 0, pad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    const int v = value(c);
    if (v < 0 || pad > 0) {
      return Error{"invalid base64 at offset " + std::to_string(i) +
                   (pad > 0 ? " (data after '=' padding)" : " (character not in the base64 alphabet)")};
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (out.size() >= max_bytes)
        return Error{"base64 data decodes to more than " + std::to_string(max_bytes) + " bytes"};
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xFF));
    }
  }
  if (bits >= 6) return Error{"base64 data ends in the middle of a byte (truncated)"};
  if (pad > 2) return Error{"invalid base64 padding"};
  return out;
}

}  // namespace pocket::server
