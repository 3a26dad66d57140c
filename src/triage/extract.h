// Triage inputs: what a file in the inbox is (by its content, through libmagic — never only by its
// name) and, for documents, its text as UTF-8.
//
// Formats read as text: plain text / Markdown / CSV / JSON (UTF-8 checked; UTF-16 with a BOM and
// Latin-1/Windows-1252 transcoded), HTML (tags, scripts and styles dropped, entities decoded), e-mail
// (.eml: From/To/Cc/Subject/Date headers, the text/plain body — or the HTML body stripped — with
// quoted-printable/base64 and RFC 2047 headers decoded, attachments listed by name, type and size),
// PDF (poppler-cpp, at most ExtractOptions::max_pdf_pages pages) and .docx (libzip + pugixml:
// paragraphs of word/document.xml). Images and audio are only recognised (kind image/audio); the
// triage pipeline decodes them for the towers. Anything else — empty, corrupt, encrypted, binary —
// is kind unsupported with a one-line reason; no file is silently dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace pocket::triage {

enum class InputKind { kText, kImage, kAudio, kUnsupported };

// "text", "image", "audio", "unsupported" (the `kind` values of triage.jsonl).
const char* input_kind_name(InputKind kind);

struct ExtractOptions {
  // Text beyond this many bytes of UTF-8 is cut (at a character boundary) and `truncated` is set.
  size_t max_text_bytes = size_t{1} << 20;
  // PDFs: only the first pages are read; `pages` still reports the document's page count.
  int max_pdf_pages = 20;
  // Documents bigger than this are refused (kind unsupported) instead of being read into memory.
  // Images and audio are only sniffed (first bytes), whatever their size.
  uint64_t max_document_bytes = uint64_t{64} << 20;
};

// One attachment of an e-mail, listed (never opened or extracted).
struct Attachment {
  std::string name;   // filename from Content-Disposition/Content-Type, "" if none
  std::string mime;   // declared Content-Type, e.g. "application/pdf"
  uint64_t size = 0;  // decoded size in bytes
};

struct ExtractedInput {
  InputKind kind = InputKind::kUnsupported;
  std::string mime;                     // from libmagic (content), e.g. "application/pdf", "image/jpeg", "text/plain"
  std::string format;                   // what was read: "text", "markdown", "csv", "json", "html", "eml", "pdf",
                                        // "docx", "image", "audio", or "" for unsupported
  std::string text;                     // UTF-8 (kind text only); for e-mail: the headers, a blank line, the body
  bool truncated = false;               // text cut at max_text_bytes or PDF cut at max_pdf_pages
  int pages = 0;                        // PDF: pages in the document (0 otherwise)
  int pages_read = 0;                   // PDF: pages whose text is in `text`
  std::string source_encoding;          // "utf-8", "utf-16le", "windows-1252", ... (text kinds)
  std::vector<Attachment> attachments;  // e-mail attachments
  std::string reason;                   // why kind is unsupported (or a note such as "invalid UTF-8 replaced")
};

// Reads and classifies one file. Per-file problems (empty, corrupt, encrypted, unknown type, too big)
// come back as kind unsupported with a reason; an Error only when the file cannot be opened or read
// at all (missing, permission denied, a directory). Thread-safe; never modifies the file.
Result<ExtractedInput> extract_input(const std::filesystem::path& path, const ExtractOptions& options = {});

// The same on bytes already in memory (fuzzing, tests). `name` is only a hint used to tell apart
// formats libmagic reports alike (e.g. .md vs .txt, .csv) — the content decides the kind.
ExtractedInput extract_input_memory(std::span<const uint8_t> bytes, std::string_view name,
                                    const ExtractOptions& options = {});

}  // namespace pocket::triage
