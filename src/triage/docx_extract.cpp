// .docx (Office Open XML) text: the paragraphs of word/document.xml, read with libzip and pugixml
// (both Debian). Only the main document part is read; headers, footers, comments and deleted text
// (w:delText) are left out. The XML part is size-capped before it is inflated (zip bombs).
#include <zip.h>

#include <memory>
#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "triage/extract_formats.h"

namespace pocket::triage {
namespace {

// word/document.xml is at most this big once inflated (a 1,000-page text document is ~20 MB).
constexpr zip_uint64_t kMaxDocumentXmlBytes = zip_uint64_t{128} << 20;

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

std::string_view local_name(const char* qualified) {
  std::string_view name(qualified);
  const size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// Pre-order walk (pugixml's walker is iterative, so deep nesting cannot overflow the stack).
class ParagraphWalker : public pugi::xml_tree_walker {
 public:
  bool for_each(pugi::xml_node& node) override {
    if (node.type() != pugi::node_element) return true;
    const std::string_view name = local_name(node.name());
    if (name == "p") {
      if (!text.empty()) text += '\n';
    } else if (name == "t") {
      text += node.text().get();
    } else if (name == "tab") {
      text += '\t';
    } else if (name == "br" || name == "cr") {
      text += '\n';
    }
    return true;
  }
  std::string text;
};

}  // namespace

void extract_docx(std::span<const uint8_t> bytes, const ExtractOptions& /*options*/, ExtractedInput& out) {
  out.format = "docx";
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (source == nullptr) {
    out.reason = std::string("corrupt .docx: ") + zip_error_strerror(&error);
    zip_error_fini(&error);
    return;
  }
  std::unique_ptr<zip_t, ZipCloser> archive(zip_open_from_source(source, ZIP_RDONLY, &error));
  if (!archive) {
    zip_source_free(source);  // not taken over by a failed open
    out.reason = std::string("not a readable zip archive, so not a .docx (") + zip_error_strerror(&error) + ")";
    zip_error_fini(&error);
    return;
  }
  zip_error_fini(&error);
  const zip_int64_t index = zip_name_locate(archive.get(), "word/document.xml", 0);
  if (index < 0) {
    out.reason = "zip archive without word/document.xml (not a Word document)";
    return;
  }
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(archive.get(), static_cast<zip_uint64_t>(index), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
    out.reason = "corrupt .docx: cannot read the entry word/document.xml";
    return;
  }
  if (st.size > kMaxDocumentXmlBytes) {
    out.reason = "word/document.xml inflates to " + std::to_string(st.size) + " bytes (limit " +
                 std::to_string(kMaxDocumentXmlBytes) + ")";
    return;
  }
  std::unique_ptr<zip_file_t, ZipFileCloser> file(zip_fopen_index(archive.get(), static_cast<zip_uint64_t>(index), 0));
  if (!file) {
    const int code = zip_error_code_zip(zip_get_error(archive.get()));
    out.reason = code == ZIP_ER_NOPASSWD || code == ZIP_ER_WRONGPASSWD
                     ? std::string("encrypted .docx (needs a password)")
                     : std::string("corrupt .docx: ") + zip_strerror(archive.get());
    return;
  }
  std::string xml(static_cast<size_t>(st.size), '\0');
  zip_uint64_t have = 0;
  while (have < st.size) {
    const zip_int64_t n = zip_fread(file.get(), xml.data() + have, st.size - have);
    if (n < 0) {
      out.reason = std::string("corrupt .docx: ") + zip_file_strerror(file.get());
      return;
    }
    if (n == 0) break;
    have += static_cast<zip_uint64_t>(n);
  }
  xml.resize(static_cast<size_t>(have));
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    out.reason = std::string("corrupt .docx: word/document.xml is not XML (") + parsed.description() + ")";
    return;
  }
  ParagraphWalker walker;
  doc.traverse(walker);
  out.text = std::move(walker.text);
  out.source_encoding = "utf-8";
  out.kind = InputKind::kText;
}

}  // namespace pocket::triage
