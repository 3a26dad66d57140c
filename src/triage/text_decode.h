// Bytes → clean UTF-8 for the triage prompt: encoding detection (BOM, UTF-8 validity, legacy fallback),
// transcoding of UTF-16 and single-byte Western encodings, control-character cleanup and truncation at
// a character boundary. Everything here is pure and allocation-bounded by the input size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace pocket::triage {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view s);

// Appends code point `cp` as UTF-8 (invalid code points become U+FFFD).
void append_utf8(std::string& out, uint32_t cp);

// The code point of a Windows-1252 byte (its five undefined bytes → U+FFFD).
uint32_t cp1252_to_unicode(uint8_t byte);

struct DecodedText {
  std::string text;      // UTF-8
  std::string encoding;  // "utf-8", "utf-8-bom", "utf-16le", "utf-16be", "windows-1252"
};

// Decodes bytes of unknown encoding: a UTF-8/UTF-16 BOM wins; then valid UTF-8 is kept as is; otherwise
// the bytes are read as Windows-1252 (a superset of Latin-1 for printable text, the commonest legacy
// encoding of Western mail and documents).
DecodedText decode_text_bytes(std::span<const uint8_t> bytes);

// Decodes bytes in a declared charset (MIME/HTML labels, case-insensitive): utf-8, us-ascii,
// iso-8859-1/latin1 and windows-1252 (all three read as Windows-1252, as browsers do), iso-8859-15,
// utf-16(le|be). Unknown labels and invalid UTF-8 fall back to
// decode_text_bytes. Never fails.
std::string decode_charset(std::string_view bytes, std::string_view charset);

// `s` unchanged when it is valid UTF-8, else read as Windows-1252 (for names and labels that must be
// valid UTF-8 before they go into JSON or HTML).
std::string to_valid_utf8(std::string_view s);

// Normalises line ends to \n, turns form feeds into \n, drops trailing blanks and runs of more than
// one empty line, drops other C0/C1 controls and NULs (they only confuse the tokenizer), keeps tabs.
std::string clean_text(std::string_view utf8);

// Cuts `text` to at most `max_bytes` without splitting a UTF-8 sequence; true when it cut.
bool truncate_utf8(std::string& text, size_t max_bytes);

}  // namespace pocket::triage
