// Small document writers for tests, fuzz seeds and the test inbox generator (not used by the
// library): a text-only PDF with a correct cross-reference table and a minimal .docx written with
// libzip. Header-only so that only the code that uses them pulls them in.
#pragma once

#include <zip.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "triage/text_decode.h"

namespace pocket::triage::testing {

// PDF literal string for Helvetica/WinAnsi: escapes ( ) \, maps every character WinAnsi has (Latin-1
// plus the Windows-1252 extras: dashes, curly quotes, euro...) to its byte, '?' for the rest.
inline std::string pdf_literal(std::string_view utf8) {
  std::string out = "(";
  for (size_t i = 0; i < utf8.size();) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    uint32_t cp = b;
    size_t n = 1;
    if (b >= 0xF0)
      cp = 0xFFFD, n = 4;
    else if (b >= 0xE0 && i + 2 < utf8.size())
      cp = (b & 0x0Fu) << 12 | (utf8[i + 1] & 0x3Fu) << 6 | (utf8[i + 2] & 0x3Fu), n = 3;
    else if (b >= 0xC0 && i + 1 < utf8.size())
      cp = (b & 0x1Fu) << 6 | (utf8[i + 1] & 0x3Fu), n = 2;
    i += n;
    int byte = -1;
    if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) byte = static_cast<int>(cp);
    for (int k = 0x80; k < 0xA0 && byte < 0; ++k) {
      if (cp1252_to_unicode(static_cast<uint8_t>(k)) == cp) byte = k;
    }
    if (byte == '(' || byte == ')' || byte == '\\') out += '\\';
    if (byte < 0x20 && byte != -1) continue;
    out += byte < 0 ? '?' : static_cast<char>(byte);
  }
  return out + ")";
}

// A PDF with one page per entry of `pages`; each page's text is set line by line (lines wrapped at
// ~90 characters, at most 50 lines shown per page) in Helvetica 11 pt.
inline std::string make_text_pdf(const std::vector<std::string>& pages) {
  std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<size_t> offsets;  // object n at offsets[n-1]
  auto add_object = [&](const std::string& body) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(offsets.size()) + " 0 obj\n" + body + "\nendobj\n";
  };
  const size_t n_pages = pages.size();
  // Objects: 1 catalog, 2 page tree, 3 font, then (page, contents) pairs.
  add_object("<< /Type /Catalog /Pages 2 0 R >>");
  std::string kids;
  for (size_t p = 0; p < n_pages; ++p) kids += std::to_string(4 + 2 * p) + " 0 R ";
  add_object("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n_pages) + " >>");
  add_object("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  for (size_t p = 0; p < n_pages; ++p) {
    add_object(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
        "/Contents " +
        std::to_string(5 + 2 * p) + " 0 R >>");
    std::vector<std::string> lines;
    std::string line;
    for (char c : pages[p] + "\n") {
      if (c == '\n' || (c == ' ' && line.size() >= 90)) {
        lines.push_back(line);
        line.clear();
      } else {
        line += c;
      }
    }
    std::string content = "BT /F1 11 Tf 13 TL 56 740 Td\n";
    for (size_t l = 0; l < lines.size() && l < 50; ++l) content += pdf_literal(lines[l]) + " Tj T*\n";
    content += "ET";
    add_object("<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "\nendstream");
  }
  const size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(offsets.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char entry[32];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", off);
    pdf += entry;
  }
  pdf += "trailer\n<< /Size " + std::to_string(offsets.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

inline std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

// word/document.xml with one w:p per paragraph (text in one run).
inline std::string make_document_xml(const std::vector<std::string>& paragraphs) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
      "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>";
  for (const std::string& p : paragraphs) {
    xml += "<w:p><w:r><w:t xml:space=\"preserve\">" + xml_escape(p) + "</w:t></w:r></w:p>";
  }
  return xml + "<w:sectPr/></w:body></w:document>";
}

// Writes a minimal but valid .docx ([Content_Types].xml, _rels/.rels, word/document.xml) to `path`.
// Returns false (with nothing guaranteed on disk) when libzip fails.
inline bool write_docx(const std::filesystem::path& path, const std::vector<std::string>& paragraphs) {
  const std::string content_types =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
      "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
      "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
      "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
      "<Override PartName=\"/word/document.xml\" "
      "ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
      "</Types>";
  const std::string rels =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
      "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
      "<Relationship Id=\"rId1\" "
      "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" "
      "Target=\"word/document.xml\"/></Relationships>";
  const std::string document = make_document_xml(paragraphs);
  int error = 0;
  zip_t* z = zip_open(path.string().c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  if (z == nullptr) return false;
  // The buffers must outlive zip_close, which is when libzip reads them.
  const std::pair<const char*, const std::string*> entries[] = {
      {"[Content_Types].xml", &content_types}, {"_rels/.rels", &rels}, {"word/document.xml", &document}};
  for (const auto& [name, data] : entries) {
    zip_source_t* src = zip_source_buffer(z, data->data(), data->size(), 0);
    if (src == nullptr || zip_file_add(z, name, src, ZIP_FL_OVERWRITE) < 0) {
      if (src != nullptr) zip_source_free(src);
      zip_discard(z);
      return false;
    }
  }
  return zip_close(z) == 0;
}

}  // namespace pocket::triage::testing
