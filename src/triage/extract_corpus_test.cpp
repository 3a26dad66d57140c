// Replays every file in tests/corpus/extract/ (format seeds and past fuzzer finds) through extraction:
// each must classify without faults, unsupported files carry a reason, text is valid UTF-8 under the
// cap; the seeds must all come out as text.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "triage/extract.h"
#include "triage/text_decode.h"

namespace pocket::triage {
namespace {

TEST(ExtractCorpus, EveryCorpusFileClassifiesCleanlySeedsAreText) {
  const std::filesystem::path dir = std::filesystem::path(POCKET_SOURCE_DIR) / "tests/corpus/extract";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  ExtractOptions options;
  options.max_text_bytes = 4096;
  options.max_pdf_pages = 3;
  int seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
    const std::string name = entry.path().filename().string();
    const ExtractedInput x = extract_input_memory(bytes, name, options);
    EXPECT_TRUE(is_valid_utf8(x.text)) << name;
    EXPECT_LE(x.text.size(), options.max_text_bytes) << name;
    if (x.kind == InputKind::kUnsupported) {
      EXPECT_FALSE(x.reason.empty()) << name;
    }
    if (name.rfind("seed", 0) == 0) {
      ++seeds;
      EXPECT_EQ(x.kind, InputKind::kText) << name << ": " << x.reason;
      EXPECT_FALSE(x.text.empty()) << name;
    }
  }
  EXPECT_GE(seeds, 9);
}

}  // namespace
}  // namespace pocket::triage
