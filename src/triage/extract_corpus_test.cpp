// Replays every file in tests/corpus/extract/ (format seeds and past fuzzer finds) through extraction:
// each must classify without faults, unsupported files carry a reason, text is valid UTF-8 under the
// cap; the seeds must all come out as text.
#include <gtest/gtest.h>

#include "common/corpus_test_util.h"
#include "triage/extract.h"
#include "triage/text_decode.h"

namespace pocket::triage {
namespace {

TEST(ExtractCorpus, EveryCorpusFileClassifiesCleanlySeedsAreText) {
  ExtractOptions options;
  options.max_text_bytes = 4096;
  options.max_pdf_pages = 3;
  int seeds = 0;
  for (const test::CorpusFile& file : test::read_corpus("extract")) {
    const std::string& name = file.name;
    const ExtractedInput x = extract_input_memory(file.bytes, name, options);
    EXPECT_TRUE(is_valid_utf8(x.text)) << name;
    EXPECT_LE(x.text.size(), options.max_text_bytes) << name;
    if (x.kind == InputKind::kUnsupported) {
      EXPECT_FALSE(x.reason.empty()) << name;
    }
    if (file.is_seed()) {
      ++seeds;
      EXPECT_EQ(x.kind, InputKind::kText) << name << ": " << x.reason;
      EXPECT_FALSE(x.text.empty()) << name;
    }
  }
  EXPECT_GE(seeds, 9);
}

}  // namespace
}  // namespace pocket::triage
