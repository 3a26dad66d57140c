// Replays every file in tests/corpus/gguf/ (seeds and past fuzzer finds) through the reader and the
// Gemma 4 loader: each must either load or fail with a message, never crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "format/gguf.h"
#include "model/gemma4_config.h"
#include "model/gemma4_weights.h"

namespace pocket {
namespace {

TEST(GgufCorpus, EveryCorpusFileParsesOrFailsCleanly) {
  const std::filesystem::path dir = std::filesystem::path(POCKET_SOURCE_DIR) / "tests/corpus/gguf";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
    auto f = GgufFile::parse(bytes, entry.path().filename().string());
    if (!f) {
      EXPECT_FALSE(f.error().message.empty());
    } else if (auto cfg = load_gemma4_config(*f)) {
      auto w = load_gemma4_weights(*f, *cfg);
      if (!w) {
        EXPECT_FALSE(w.error().message.empty());
      }
    }
    ++n;
  }
  EXPECT_GT(n, 0);
}

}  // namespace
}  // namespace pocket
