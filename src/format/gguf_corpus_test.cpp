// Replays every file in tests/corpus/gguf/ (seeds and past fuzzer finds) through the reader and the
// Gemma 4 loader: each must either load or fail with a message, never crash.
#include <gtest/gtest.h>

#include "common/corpus_test_util.h"
#include "format/gguf.h"
#include "model/gemma4_config.h"
#include "model/gemma4_weights.h"

namespace pocket {
namespace {

TEST(GgufCorpus, EveryCorpusFileParsesOrFailsCleanly) {
  int n = 0;
  for (const test::CorpusFile& file : test::read_corpus("gguf")) {
    auto f = GgufFile::parse(file.bytes, file.name);
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
