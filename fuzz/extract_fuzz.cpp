// libFuzzer entry for triage input extraction: any byte string must classify (text, image, audio or
// unsupported-with-a-reason) without faults, and every text that comes out must be valid UTF-8 within
// the cap. The format readers are also driven directly (HTML scanner, MIME parser always; poppler
// for %PDF, libzip+pugixml for PK), so mutations that libmagic would no longer recognise still reach
// them. Limits are lowered so the fuzzer explores structure rather than size.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "triage/extract.h"
#include "triage/extract_formats.h"
#include "triage/text_decode.h"

namespace triage = pocket::triage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  triage::ExtractOptions options;
  options.max_text_bytes = 4096;
  options.max_pdf_pages = 3;
  const std::string_view chars(reinterpret_cast<const char*>(data), size);
  const triage::ExtractedInput x = triage::extract_input_memory({data, size}, "input", options);
  if (x.kind == triage::InputKind::kUnsupported && x.reason.empty()) __builtin_trap();
  if (x.kind == triage::InputKind::kText && (x.text.empty() || x.text.size() > options.max_text_bytes))
    __builtin_trap();
  if (!triage::is_valid_utf8(x.text) || !triage::is_valid_utf8(x.reason) || !triage::is_valid_utf8(x.mime))
    __builtin_trap();
  for (const triage::Attachment& a : x.attachments) {
    if (!triage::is_valid_utf8(a.name) || !triage::is_valid_utf8(a.mime)) __builtin_trap();
  }

  if (triage::is_valid_utf8(chars) && !triage::is_valid_utf8(triage::html_to_text(chars))) __builtin_trap();
  triage::ExtractedInput mail;
  triage::extract_email(chars, mail);
  if (!triage::is_valid_utf8(mail.text)) __builtin_trap();
  for (const triage::Attachment& a : mail.attachments) {
    if (!triage::is_valid_utf8(a.name)) __builtin_trap();
  }
  if (chars.substr(0, 4) == "%PDF") {
    triage::ExtractedInput pdf;
    triage::extract_pdf({data, size}, options, pdf);
    if (pdf.pages_read > options.max_pdf_pages) __builtin_trap();
  }
  if (chars.substr(0, 2) == "PK") {
    triage::ExtractedInput docx;
    triage::extract_docx({data, size}, options, docx);
  }
  return 0;
}
