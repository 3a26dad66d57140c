// Attention over the sliding-window ring: a prompt evaluated in small slices (the ring wraps many
// times, runs of keys split at the wrap) gives the same logits as one batch (no wrap), and the tiled
// prefill path agrees with the per-head decode path. A long prompt (the dense MLP then runs in token
// slices) gives the logits of the same prompt fed as short batches.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "pocket/engine.h"
#include "synth/tiny_model_cache.h"

namespace pocket {
namespace {

std::vector<float> run(Engine& e, const std::vector<int32_t>& toks, int max_batch, int step, int context = 256) {
  SessionOptions so;
  so.context_size = context;
  so.max_batch = max_batch;
  auto s = e.new_session(so).value();
  std::vector<float> last;
  for (size_t b = 0; b < toks.size(); b += step) {
    const size_t n = std::min<size_t>(step, toks.size() - b);
    auto r = s->evaluate(std::span(toks).subspan(b, n));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (!r.ok()) return {};
    last.assign(r->begin(), r->end());
  }
  return last;
}

TEST(Attention, WrappedRingSlicesMatchOneBatchWithin1em4) {
  for (const char* variant : {"e2b", "26b-a4b"}) {
    auto e = Engine::load(synth::tiny_model_path(variant), EngineOptions{2, "load"});
    ASSERT_TRUE(e.ok()) << e.error().message;
    std::vector<int32_t> toks = {2};
    for (int i = 1; i < 120; ++i) toks.push_back(10 + (i * 37) % 200);
    const auto one = run(**e, toks, 128, 128);   // one batch, ring capacity 16 + 128: no wrap
    const auto sliced = run(**e, toks, 12, 12);  // capacity 28: wraps four times, tiles see the wrap
    const auto decode = run(**e, toks, 12, 1);   // token by token: the per-head path
    ASSERT_EQ(one.size(), sliced.size());
    ASSERT_EQ(one.size(), decode.size());
    float d1 = 0, d2 = 0;
    for (size_t i = 0; i < one.size(); ++i) {
      d1 = std::max(d1, std::abs(one[i] - sliced[i]));
      d2 = std::max(d2, std::abs(one[i] - decode[i]));
    }
    EXPECT_LT(d1, 1e-4f) << variant;
    EXPECT_LT(d2, 1e-4f) << variant;
  }
}

TEST(Gemma4Forward, LongPromptInMlpSlicesMatchesShortBatchesWithin1em4) {
  for (const char* variant : {"e2b", "26b-a4b"}) {
    auto e = Engine::load(synth::tiny_model_path(variant), EngineOptions{2, "load"});
    ASSERT_TRUE(e.ok()) << e.error().message;
    std::vector<int32_t> toks = {2};
    for (int i = 1; i < 300; ++i) toks.push_back(10 + (i * 37) % 200);
    const auto whole = run(**e, toks, 512, 300, 512);  // 300 tokens: MLP slices of 256 + 44
    const auto parts = run(**e, toks, 512, 100, 512);  // three batches of 100: one slice each
    ASSERT_EQ(whole.size(), parts.size());
    ASSERT_FALSE(whole.empty());
    float d = 0;
    for (size_t i = 0; i < whole.size(); ++i) d = std::max(d, std::abs(whole[i] - parts[i]));
    EXPECT_LT(d, 1e-4f) << variant;
  }
}

}  // namespace
}  // namespace pocket

namespace pocket {
namespace {

// A chat turn re-sends the previous prompt plus a different continuation (the answer without its
// thoughts): the divergence is further back than the sliding rings reach, and the checkpoint taken
// after the prompt lets the session continue from there with the same logits as a fresh evaluation.
TEST(SlidingCheckpoint, DeepDivergenceContinuesFromCheckpointWithFreshLogitsWithin1em4) {
  auto e = Engine::load(synth::tiny_model_path("e2b"), EngineOptions{2, "load"});
  ASSERT_TRUE(e.ok()) << e.error().message;
  SessionOptions so;
  so.context_size = 256;
  so.max_batch = 8;  // rings keep window 16 + 8 positions: rollback reach 9
  std::vector<int32_t> prompt = {2};
  for (int i = 1; i < 40; ++i) prompt.push_back(10 + (i * 13) % 150);
  std::vector<int32_t> answer;
  for (int i = 0; i < 30; ++i) answer.push_back(30 + (i * 7) % 100);
  std::vector<int32_t> next = prompt;
  for (int i = 0; i < 12; ++i) next.push_back(50 + i);

  for (bool with_checkpoint : {true, false}) {
    auto s = (*e)->new_session(so).value();
    ASSERT_TRUE(s->evaluate(prompt).ok());
    if (with_checkpoint) s->checkpoint();
    for (int32_t t : answer) ASSERT_TRUE(s->evaluate(std::span(&t, 1)).ok());
    const int64_t reused = s->reuse_prefix(next);
    if (with_checkpoint) {
      EXPECT_EQ(reused, 40);
      EXPECT_FALSE(s->last_reuse_reset());
    } else {
      EXPECT_EQ(reused, 0);
      EXPECT_TRUE(s->last_reuse_reset());  // reported, not silent
    }
    auto got = s->evaluate(std::span(next).subspan(static_cast<size_t>(reused)));
    ASSERT_TRUE(got.ok());
    auto fresh = (*e)->new_session(so).value();
    auto want = fresh->evaluate(next);
    ASSERT_TRUE(want.ok());
    float worst = 0;
    for (size_t i = 0; i < want->size(); ++i) worst = std::max(worst, std::abs((*got)[i] - (*want)[i]));
    EXPECT_LT(worst, 1e-4f) << with_checkpoint;
  }
}

}  // namespace
}  // namespace pocket
