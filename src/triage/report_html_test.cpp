#include "triage/report_html.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "triage/report_media.h"
#include "triage/test_fixtures.h"

namespace pocket::triage {
namespace {

using nlohmann::json;

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

void put_le(std::string& out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

// A 24-bit BMP of w×h with a horizontal gradient.
std::string make_bmp(int w, int h) {
  const int stride = (w * 3 + 3) / 4 * 4;
  std::string bmp = "BM";
  put_le(bmp, static_cast<uint32_t>(54 + stride * h), 4);
  put_le(bmp, 0, 4);
  put_le(bmp, 54, 4);
  put_le(bmp, 40, 4);
  put_le(bmp, static_cast<uint32_t>(w), 4);
  put_le(bmp, static_cast<uint32_t>(h), 4);
  put_le(bmp, 1, 2);
  put_le(bmp, 24, 2);
  put_le(bmp, 0, 4);
  put_le(bmp, static_cast<uint32_t>(stride * h), 4);
  put_le(bmp, 2835, 4);
  put_le(bmp, 2835, 4);
  put_le(bmp, 0, 4);
  put_le(bmp, 0, 4);
  for (int y = 0; y < h; ++y) {
    std::string row;
    for (int x = 0; x < w; ++x) row += {static_cast<char>(x * 255 / w), static_cast<char>(y * 255 / h), 'x'};
    row.resize(static_cast<size_t>(stride), '\0');
    bmp += row;
  }
  return bmp;
}

// 16-bit mono WAV with a 440 Hz tone.
std::string make_wav(double seconds, int rate) {
  const auto n = static_cast<uint32_t>(seconds * rate);
  std::string wav = "RIFF";
  put_le(wav, 36 + n * 2, 4);
  wav += "WAVEfmt ";
  put_le(wav, 16, 4);
  put_le(wav, 1, 2);
  put_le(wav, 1, 2);
  put_le(wav, static_cast<uint32_t>(rate), 4);
  put_le(wav, static_cast<uint32_t>(rate) * 2, 4);
  put_le(wav, 2, 2);
  put_le(wav, 16, 2);
  wav += "data";
  put_le(wav, n * 2, 4);
  for (uint32_t i = 0; i < n; ++i) {
    put_le(wav, static_cast<uint32_t>(static_cast<int16_t>(8000 * std::sin(2 * M_PI * 440 * i / rate))), 2);
  }
  return wav;
}

using TriageReportFiles = testing::TempDirTest;

TEST(TriageReport, Base64MatchesRfc4648Vectors) {
  auto enc = [](std::string_view s) { return base64_encode({reinterpret_cast<const uint8_t*>(s.data()), s.size()}); };
  EXPECT_EQ(enc(""), "");
  EXPECT_EQ(enc("f"), "Zg==");
  EXPECT_EQ(enc("fo"), "Zm8=");
  EXPECT_EQ(enc("foo"), "Zm9v");
  EXPECT_EQ(enc("foobar"), "Zm9vYmFy");
}

TEST_F(TriageReportFiles, OneRowPerRecordEverythingEscapedPreviewsEmbedded) {
  write("photo.bmp", make_bmp(640, 320));
  write("short.wav", make_wav(1.0, 16000));
  write("long.wav", make_wav(12.0, 16000));
  const std::string evil = "<script>alert('x')</script>\"&";
  std::vector<json> records = {
      {{"path", "photo.bmp"},
       {"kind", "image"},
       {"mime", "image/bmp"},
       {"size", 614454},
       {"label", "photo"},
       {"confidence", 0.91},
       {"label_scores", {{"photo", 0.91}, {"invoice", 0.09}}},
       {"summary", "A gradient."},
       {"fields", json::object()},
       {"flags", json::array()},
       {"error", nullptr}},
      {{"path", "short.wav"},
       {"kind", "audio"},
       {"mime", "audio/x-wav"},
       {"size", 32044},
       {"label", "recording"},
       {"confidence", 0.5},
       {"summary", "Tone."}},
      {{"path", "long.wav"}, {"kind", "audio"}, {"mime", "audio/x-wav"}, {"size", 384044}, {"label", "recording"}},
      {{"path", "a" + evil + ".txt"},
       {"kind", "text"},
       {"mime", "text/plain"},
       {"size", 12},
       {"label", evil},
       {"confidence", 0.3},
       {"summary", evil},
       {"fields", {{evil, evil}, {"amount", 12.5}}},
       {"flags", {evil, "sensitive"}}},
      {{"path", "broken.jpg"},
       {"kind", "unsupported"},
       {"mime", "application/octet-stream"},
       {"size", 4096},
       {"label", nullptr},
       {"error", "not a supported document, image or audio file"}},
      json("not even an object"),
  };
  HtmlReportOptions options;
  options.audio_original_max_bytes = 100000;  // short.wav embedded as is, long.wav clipped
  options.audio_preview_seconds = 5;
  const std::string html = render_html_report(records, dir_, options);
  EXPECT_EQ(count(html, "<tr class=\"record"), records.size());
  EXPECT_EQ(count(html, "<script>"), 1u);  // only the report's own filter script
  EXPECT_EQ(html.find("alert('x')"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;"), std::string::npos);
  EXPECT_EQ(count(html, "data:image/jpeg;base64,"), 1u);
  EXPECT_EQ(count(html, "<audio controls"), 2u);
  EXPECT_NE(html.find("12.0 s (preview: start)"), std::string::npos);
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_NE(html.find("<option value=\"recording\">recording (2)</option>"), std::string::npos);
  EXPECT_NE(html.find("91%"), std::string::npos);

  // The preview budget stops embedding once spent.
  options.media_budget_bytes = 10;
  const std::string lean = render_html_report(records, dir_, options);
  EXPECT_EQ(count(lean, "data:image/jpeg;base64,"), 1u);  // the first preview is still made
  EXPECT_EQ(count(lean, "<audio controls"), 0u);

  const auto out = dir_ / "report.html";
  ASSERT_TRUE(write_html_report(records, dir_, out, options).ok());
  EXPECT_TRUE(std::filesystem::exists(out));
  EXPECT_FALSE(write_html_report(records, dir_, dir_ / "missing-dir" / "r.html").ok());
}

}  // namespace
}  // namespace pocket::triage
