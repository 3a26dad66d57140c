// Per-format extractors behind extract_input (internal to src/triage). Each one fills `out` from the
// file's bytes: on success kind text with `text` (raw — the caller cleans and truncates it), else kind
// unsupported with `reason`.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "triage/extract.h"

namespace pocket::triage {

// HTML → readable text: <script>/<style>/<head> contents, comments and tags dropped; block elements
// become line breaks, table cells tabs, list items "- "; character references decoded; runs of
// blanks collapsed (except inside <pre>). Input must already be UTF-8.
std::string html_to_text(std::string_view html);

// The charset an HTML document declares in <meta charset> / http-equiv content-type, or "".
std::string html_declared_charset(std::string_view html);

// True when the bytes start like an Internet message: an optional mbox "From " line, then a block of
// RFC 5322 header lines that includes From: and Subject: or Date:.
bool looks_like_email(std::string_view bytes);

void extract_html(std::string_view bytes, ExtractedInput& out);
void extract_email(std::string_view bytes, ExtractedInput& out);
void extract_pdf(std::span<const uint8_t> bytes, const ExtractOptions& options, ExtractedInput& out);
void extract_docx(std::span<const uint8_t> bytes, const ExtractOptions& options, ExtractedInput& out);

}  // namespace pocket::triage
