#include "triage/extract.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "triage/extract_formats.h"
#include "triage/test_documents.h"
#include "triage/text_decode.h"

namespace pocket::triage {
namespace {

std::span<const uint8_t> as_bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

ExtractedInput extract(std::string_view bytes, std::string_view name, const ExtractOptions& options = {}) {
  return extract_input_memory(as_bytes(bytes), name, options);
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pocket-extract-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(TriageText, Utf8ValidationRejectsOverlongsSurrogatesAndTruncation) {
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("abc\xE2\x82"));       // cut sequence
}

TEST(TriageText, DecodesBomsAndFallsBackToWindows1252) {
  const std::string utf16le("\xFF\xFEH\0i\0 \0\xAC\x20", 10);
  DecodedText d = decode_text_bytes(as_bytes(utf16le));
  EXPECT_EQ(d.encoding, "utf-16le");
  EXPECT_EQ(d.text, "Hi \xE2\x82\xAC");
  d = decode_text_bytes(as_bytes("caf\xE9 \x80 \x93"));
  EXPECT_EQ(d.encoding, "windows-1252");
  EXPECT_EQ(d.text, "caf\xC3\xA9 \xE2\x82\xAC \xE2\x80\x9C");  // 0x93 = left double quote
  d = decode_text_bytes(as_bytes("\xEF\xBB\xBFhello"));
  EXPECT_EQ(d.text, "hello");
}

TEST(TriageText, TruncatesOnCharacterBoundaryAndCleansControls) {
  std::string s = "ab\xE2\x82\xAC";
  EXPECT_TRUE(truncate_utf8(s, 4));
  EXPECT_EQ(s, "ab");
  const std::string raw(
      "a\r\nb\rc\x01\0"
      "d\fe\tf",
      13);
  EXPECT_EQ(clean_text(raw), "a\nb\ncd\ne\tf");
  EXPECT_EQ(clean_text("a  \n\n\n\n\tb\r\n\r\n\r\nc"), "a\n\n\tb\n\nc");
}

TEST(TriageExtract, PlainMarkdownCsvJsonAreTextWithFormatFromNameAndContent) {
  ExtractedInput r = extract("Call me Ishmael. Some years ago...\n", "notes.txt");
  EXPECT_EQ(r.kind, InputKind::kText);
  EXPECT_EQ(r.mime, "text/plain");
  EXPECT_EQ(r.format, "text");
  EXPECT_EQ(r.text, "Call me Ishmael. Some years ago...\n");
  EXPECT_EQ(extract("# Title\n\nSome *markdown*.\n", "a.md").format, "markdown");
  r = extract("name,amount,date\nAhab,12.50,1851-10-18\nStarbuck,3.00,1851-10-19\n", "ledger.csv");
  EXPECT_EQ(r.kind, InputKind::kText);
  EXPECT_EQ(r.format, "csv");
  r = extract("{\"patient\": \"Queequeg\", \"visits\": [1, 2, 3]}\n", "record.json");
  EXPECT_EQ(r.format, "json");
  EXPECT_NE(r.text.find("Queequeg"), std::string::npos);
}

TEST(TriageExtract, Latin1TextIsTranscodedAndNoted) {
  const ExtractedInput r = extract("Le na\xEFve caf\xE9 de la r\xE9publique, d\xE9j\xE0 vu.\n", "fr.txt");
  EXPECT_EQ(r.kind, InputKind::kText);
  EXPECT_EQ(r.source_encoding, "windows-1252");
  EXPECT_NE(r.text.find("caf\xC3\xA9"), std::string::npos);
  EXPECT_NE(r.reason.find("Windows-1252"), std::string::npos);
}

TEST(TriageExtract, TextIsTruncatedAtTheByteCap) {
  ExtractOptions options;
  options.max_text_bytes = 100;
  const ExtractedInput r = extract(std::string(1000, 'x') + "\n", "big.txt", options);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.text.size(), 100u);
}

TEST(TriageExtract, HtmlDropsScriptsStylesAndTagsDecodesEntities) {
  const std::string html =
      "<!DOCTYPE html><html><head><title>Intake &amp; triage</title><style>p{color:red}</style>"
      "<script>var x = '<p>not text</p>';</script></head><body><!-- hidden -->"
      "<h1>Clinic&nbsp;notes</h1><p>Patient: <b>Q.</b> &lt;id 42&gt; &#8364;10 &#x2014; ok</p>"
      "<ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr></table></body></html>";
  const ExtractedInput r = extract(html, "page.html");
  EXPECT_EQ(r.kind, InputKind::kText);
  EXPECT_EQ(r.format, "html");
  EXPECT_EQ(r.text,
            "Intake & triage\n\nClinic notes\n\nPatient: Q. <id 42> \xE2\x82\xAC"
            "10 \xE2\x80\x94 ok\n\n- one\n- two\n"
            "a\tb");
  EXPECT_EQ(r.text.find("not text"), std::string::npos);
  EXPECT_EQ(r.text.find("color"), std::string::npos);
}

TEST(TriageExtract, HtmlScannerSurvivesBrokenMarkup) {
  for (const char* html : {"<", "<a href=\"x", "a < b && c > d", "<script>never closed", "<!-- open", "&#xFFFFFFFFF;",
                           "<p>&bogus; &amp</p>", "<<<>>>"}) {
    const std::string text = html_to_text(html);
    EXPECT_TRUE(is_valid_utf8(text)) << html;
  }
  EXPECT_EQ(html_to_text("a < b"), "a < b");
}

const char* kMultipartMail =
    "From sender@example.org  Mon Jan  1 00:00:00 2024\n"
    "From: =?UTF-8?B?Sm9zw6k=?= <jose@example.org>\n"
    "To: clinic@example.org\n"
    "Subject: =?ISO-8859-1?Q?R=E9sultats_d'analyse?=\n"
    "Date: Mon, 1 Jan 2024 09:30:00 +0100\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\n"
    "\n"
    "preamble\n"
    "--outer\n"
    "Content-Type: multipart/alternative; boundary=inner\n"
    "\n"
    "--inner\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Bonjour, voici les r=E9sultats. Une tr=\n"
    "=E8s longue ligne.\n"
    "--inner\n"
    "Content-Type: text/html\n"
    "\n"
    "<p>HTML version</p>\n"
    "--inner--\n"
    "--outer\n"
    "Content-Type: application/pdf; name=\"report.pdf\"\n"
    "Content-Disposition: attachment; filename=\"report.pdf\"\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "JVBERi0xLjQKJeLjz9MK\n"
    "--outer\n"
    "Content-Type: image/png\n"
    "Content-Disposition: attachment; filename*=utf-8''r%C3%B6ntgen.png\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "iVBORw0KGgo=\n"
    "--outer--\n";

TEST(TriageExtract, EmailHeadersBodyAndAttachmentsListed) {
  const ExtractedInput r = extract(kMultipartMail, "mail.eml");
  ASSERT_EQ(r.kind, InputKind::kText) << r.reason;
  EXPECT_EQ(r.format, "eml");
  EXPECT_NE(r.text.find("From: Jos\xC3\xA9 <jose@example.org>"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("Subject: R\xC3\xA9sultats d'analyse"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("Date: Mon, 1 Jan 2024"), std::string::npos);
  EXPECT_NE(r.text.find("voici les r\xC3\xA9sultats. Une tr\xC3\xA8s longue ligne."), std::string::npos) << r.text;
  EXPECT_EQ(r.text.find("HTML version"), std::string::npos);  // plain alternative preferred
  ASSERT_EQ(r.attachments.size(), 2u);
  EXPECT_EQ(r.attachments[0].name, "report.pdf");
  EXPECT_EQ(r.attachments[0].mime, "application/pdf");
  EXPECT_EQ(r.attachments[0].size, 15u);
  EXPECT_EQ(r.attachments[1].name, "r\xC3\xB6ntgen.png");
  EXPECT_EQ(r.attachments[1].size, 8u);
  EXPECT_NE(r.text.find("- report.pdf (application/pdf, 15 bytes)"), std::string::npos);
}

TEST(TriageExtract, HtmlOnlyEmailBodyIsStripped) {
  const ExtractedInput r = extract(
      "From: a@b.c\nSubject: hi\nContent-Type: text/html; charset=us-ascii\n\n<html><body><p>Buy <b>now</b>!</p>"
      "<script>evil()</script></body></html>\n",
      "x.eml");
  ASSERT_EQ(r.kind, InputKind::kText);
  EXPECT_NE(r.text.find("Buy now!"), std::string::npos) << r.text;
  EXPECT_EQ(r.text.find("evil"), std::string::npos);
}

TEST(TriageExtract, PdfTextWithPageCap) {
  const std::string pdf = testing::make_text_pdf(
      {"First page about whales (Moby) \u2014 \u201cCall me Ishmael\u201d, 35 \u20ac.\nSecond line.",
       "Second page: Nantucket.", "Third page: the end."});
  ExtractOptions options;
  options.max_pdf_pages = 2;
  const ExtractedInput r = extract(pdf, "doc.pdf", options);
  ASSERT_EQ(r.kind, InputKind::kText) << r.reason;
  EXPECT_EQ(r.mime, "application/pdf");
  EXPECT_EQ(r.pages, 3);
  EXPECT_EQ(r.pages_read, 2);
  EXPECT_TRUE(r.truncated);
  EXPECT_NE(r.text.find("First page about whales (Moby) \u2014 \u201cCall me Ishmael\u201d, 35 \u20ac."),
            std::string::npos)
      << r.text;
  EXPECT_NE(r.text.find("Second page"), std::string::npos);
  EXPECT_EQ(r.text.find("Third page"), std::string::npos);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& p, std::string_view data) {
  std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
}

TEST(TriageExtract, DocxParagraphsAndNotAZip) {
  TempDir dir;
  const auto docx = dir.path() / "letter.docx";
  ASSERT_TRUE(testing::write_docx(docx, {"Dear Captain Ahab,", "The whale <Moby Dick> & crew.", "Regards"}));
  Result<ExtractedInput> r = extract_input(docx);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->kind, InputKind::kText) << r->reason;
  EXPECT_EQ(r->format, "docx");
  EXPECT_EQ(r->text, "Dear Captain Ahab,\nThe whale <Moby Dick> & crew.\nRegards");

  // Half a .docx (the central directory is gone): unsupported, with the zip error named.
  const std::string bytes = read_file(docx);
  const ExtractedInput cut = extract(std::string_view(bytes).substr(0, bytes.size() / 2), "cut.docx");
  EXPECT_EQ(cut.kind, InputKind::kUnsupported);
  EXPECT_FALSE(cut.reason.empty());
  // A zip that is not a Word document.
  const auto plain_zip = dir.path() / "other.docx";
  {
    int error = 0;
    zip_t* z = zip_open(plain_zip.string().c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    ASSERT_NE(z, nullptr);
    static const char kData[] = "hello";
    zip_file_add(z, "readme.txt", zip_source_buffer(z, kData, 5, 0), 0);
    ASSERT_EQ(zip_close(z), 0);
  }
  r = extract_input(plain_zip);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, InputKind::kUnsupported);
  EXPECT_NE(r->reason.find("word/document.xml"), std::string::npos) << r->reason;
}

TEST(TriageExtract, ImagesAndAudioAreRecognisedByContentNotName) {
  // 1x1 PNG named .txt; RIFF/WAVE header named .dat.
  const std::string png(
      "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde\0\0\0\x0cIDATx\x9c"
      "c\xf8\xcf\xc0\0\0\x03\x01\x01\0\xc9\xfe\x92\xef\0\0\0\0IEND\xae\x42\x60\x82",
      69);
  ExtractedInput r = extract(png, "photo.txt");
  EXPECT_EQ(r.kind, InputKind::kImage);
  EXPECT_EQ(r.mime, "image/png");
  std::string wav("RIFF\x24\x08\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x80\x3e\0\0\0\x7d\0\0\x02\0\x10\0data\0\x08\0\0", 44);
  wav += std::string(2048, '\0');
  r = extract(wav, "recording.dat");
  EXPECT_EQ(r.kind, InputKind::kAudio) << r.mime;
  EXPECT_EQ(std::string(input_kind_name(r.kind)), "audio");
}

TEST(TriageExtract, CorruptEmptyAndRandomFilesAreUnsupportedWithAReason) {
  ExtractedInput r = extract("", "empty.txt");
  EXPECT_EQ(r.kind, InputKind::kUnsupported);
  EXPECT_EQ(r.reason, "empty file");
  std::mt19937 rng(7);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  r = extract(noise, "holiday.jpg");
  EXPECT_EQ(r.kind, InputKind::kUnsupported);
  EXPECT_NE(r.reason.find(".jpg"), std::string::npos) << r.reason;
  const std::string pdf = testing::make_text_pdf({"Some text on a page."});
  r = extract(std::string_view(pdf).substr(0, 40), "cut.pdf");
  EXPECT_EQ(r.kind, InputKind::kUnsupported);
  EXPECT_FALSE(r.reason.empty());
  r = extract("   \n\t\n", "blank.txt");
  EXPECT_EQ(r.kind, InputKind::kUnsupported);
}

TEST(TriageExtract, FileErrorsForMissingPathsAndDirectories) {
  TempDir dir;
  EXPECT_FALSE(extract_input(dir.path() / "missing.txt").ok());
  const Result<ExtractedInput> d = extract_input(dir.path());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("directory"), std::string::npos);
  const auto fifo = dir.path() / "pipe";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const Result<ExtractedInput> f = extract_input(fifo);  // must not block
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->kind, InputKind::kUnsupported);
  const auto empty = dir.path() / "empty.eml";
  write_file(empty, "");
  EXPECT_EQ(extract_input(empty)->reason, "empty file");
}

TEST(TriageExtract, OversizedTextIsReadFromItsStartOversizedPdfRefused) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 40; ++i) text += "line " + std::to_string(i) + " \u00e9t\u00e9\n";  // multi-byte chars at the cut
  write_file(dir.path() / "big.log", text);
  ExtractOptions options;
  options.max_document_bytes = 101;
  Result<ExtractedInput> r = extract_input(dir.path() / "big.log", options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, InputKind::kText) << r->reason;
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->source_encoding, "utf-8");  // the cut did not split a character
  EXPECT_LE(r->text.size(), 101u);
  EXPECT_NE(r->reason.find("only the first"), std::string::npos) << r->reason;
  write_file(dir.path() / "big.pdf", testing::make_text_pdf({text}));
  r = extract_input(dir.path() / "big.pdf", options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, InputKind::kUnsupported);
  EXPECT_NE(r->reason.find("limit"), std::string::npos);
}

}  // namespace
}  // namespace pocket::triage
