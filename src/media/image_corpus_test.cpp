// Replays every file in tests/corpus/image/ (format seeds and past fuzzer finds) through decoding and
// preprocessing: each must decode or fail with a message, never crash; the seeds must all decode.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "media/image_decode.h"
#include "media/image_preprocess.h"

namespace pocket::media {
namespace {

TEST(ImageCorpus, EveryCorpusFileDecodesOrFailsCleanly) {
  const std::filesystem::path dir = std::filesystem::path(POCKET_SOURCE_DIR) / "tests/corpus/image";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  int seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
    auto img = decode_image_memory(bytes);
    const std::string name = entry.path().filename().string();
    if (name.rfind("seed", 0) == 0) {
      ++seeds;
      ASSERT_TRUE(img.ok()) << name << ": " << img.error().message;
    }
    if (!img) {
      EXPECT_FALSE(img.error().message.empty()) << name;
      continue;
    }
    ImagePreprocessOptions opts;
    opts.max_soft_tokens = 70;
    auto t = preprocess_image(*img, opts);
    ASSERT_TRUE(t.ok()) << name << ": " << t.error().message;
    EXPECT_LE(t->n_soft(), 70) << name;
  }
  EXPECT_GT(seeds, 0);
}

}  // namespace
}  // namespace pocket::media
