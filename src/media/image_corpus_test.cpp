// Replays every file in tests/corpus/image/ (format seeds and past fuzzer finds) through decoding and
// preprocessing: each must decode or fail with a message, never crash; the seeds must all decode.
#include <gtest/gtest.h>

#include "common/corpus_test_util.h"
#include "media/image_decode.h"
#include "media/image_preprocess.h"

namespace pocket::media {
namespace {

TEST(ImageCorpus, EveryCorpusFileDecodesOrFailsCleanly) {
  int seeds = 0;
  for (const test::CorpusFile& file : test::read_corpus("image")) {
    const std::string& name = file.name;
    auto img = decode_image_memory(file.bytes);
    if (file.is_seed()) {
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
