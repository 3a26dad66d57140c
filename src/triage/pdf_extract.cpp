// PDF text through poppler-cpp (Debian libpoppler-cpp): the first max_pdf_pages pages in reading order.
// Password-protected and unparsable files come back unsupported with the reason.
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <climits>
#include <memory>
#include <mutex>
#include <string>

#include "triage/extract_formats.h"

namespace pocket::triage {
namespace {

void ignore_poppler_message(const std::string& /*message*/, void* /*closure*/) {}

// Poppler prints every syntax complaint about a damaged file to stderr; a triage run over thousands
// of files would drown the progress display. The hook is process-wide state inside poppler, so it
// is installed once.
void silence_poppler() {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function(ignore_poppler_message, nullptr); });
}

}  // namespace

void extract_pdf(std::span<const uint8_t> bytes, const ExtractOptions& options, ExtractedInput& out) {
  out.format = "pdf";
  silence_poppler();
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    out.reason = "PDF larger than 2 GiB";
    return;
  }
  // poppler reads from the caller's buffer for the document's whole lifetime (it stays alive here).
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_raw_data(
      reinterpret_cast<const char*>(bytes.data()), static_cast<int>(bytes.size())));
  if (!doc) {
    out.reason = "corrupt PDF (poppler could not parse it)";
    return;
  }
  if (doc->is_locked()) {
    out.reason = "encrypted PDF (needs a password)";
    return;
  }
  out.pages = doc->pages();
  if (out.pages <= 0) {
    out.reason = "PDF without pages";
    return;
  }
  const int to_read = std::min(out.pages, std::max(0, options.max_pdf_pages));
  std::string text;
  for (int i = 0; i < to_read; ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) continue;
    const poppler::byte_array utf8 = page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout).to_utf8();
    if (!text.empty()) text += "\n\n";
    text.append(utf8.begin(), utf8.end());
    out.pages_read = i + 1;
    if (text.size() > options.max_text_bytes) break;  // the rest would be cut anyway
  }
  if (out.pages_read < out.pages) out.truncated = true;
  out.text = std::move(text);
  out.source_encoding = "pdf";
  out.kind = InputKind::kText;
}

}  // namespace pocket::triage
