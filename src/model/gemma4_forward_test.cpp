// The forward pass over a long prompt (the dense MLP then runs in token slices, and the per-row
// steps on every thread) gives the logits of the same prompt fed as short batches.
#include <gtest/gtest.h>

#include <cmath>

#include "pocket/engine.h"
#include "synth/tiny_model_cache.h"

namespace pocket {
namespace {

std::vector<float> last_logits(Engine& e, const std::vector<int32_t>& toks, int step) {
  SessionOptions so;
  so.context_size = 512;
  so.max_batch = 512;
  auto s = e.new_session(so).value();
  std::vector<float> last;
  for (size_t b = 0; b < toks.size(); b += static_cast<size_t>(step)) {
    const size_t n = std::min<size_t>(static_cast<size_t>(step), toks.size() - b);
    auto r = s->evaluate(std::span(toks).subspan(b, n));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (!r.ok()) return {};
    last.assign(r->begin(), r->end());
  }
  return last;
}

TEST(Gemma4Forward, LongPromptInMlpSlicesMatchesShortBatchesWithin1em4) {
  for (const char* variant : {"e2b", "26b-a4b"}) {
    auto e = Engine::load(synth::tiny_model_path(variant), EngineOptions{2, "load"});
    ASSERT_TRUE(e.ok()) << e.error().message;
    std::vector<int32_t> toks = {2};
    for (int i = 1; i < 300; ++i) toks.push_back(10 + (i * 37) % 200);
    const auto whole = last_logits(**e, toks, 300);  // 300 tokens: MLP slices of 256 + 44
    const auto parts = last_logits(**e, toks, 100);  // three batches of 100: one slice each
    ASSERT_EQ(whole.size(), parts.size());
    ASSERT_FALSE(whole.empty());
    float d = 0;
    for (size_t i = 0; i < whole.size(); ++i) d = std::max(d, std::abs(whole[i] - parts[i]));
    EXPECT_LT(d, 1e-4f) << variant;
  }
}

}  // namespace
}  // namespace pocket
