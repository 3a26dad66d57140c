// Continuous batching: one decode step for several conversations in one forward pass gives the same
// logits as stepping each conversation alone (tolerance 1e-4: batched rows take the GEMM path, single
// rows the matrix-vector path, which round differently).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "pocket/engine.h"
#include "synth/tiny_model_cache.h"

namespace pocket {
namespace {

TEST(DecodeBatch, ThreeConversationsMatchSteppingAloneWithin1em4) {
  for (const char* variant : {"e2b", "26b-a4b", "31b"}) {
    auto e = Engine::load(synth::tiny_model_path(variant), EngineOptions{2, "load"});
    ASSERT_TRUE(e.ok()) << e.error().message;
    const std::vector<std::vector<int32_t>> prompts = {
        {2, 10, 11, 12}, {2, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49}, {2, 7}};
    std::vector<std::unique_ptr<Session>> batched, alone;
    for (const auto& p : prompts) {
      batched.push_back((*e)->new_session().value());
      alone.push_back((*e)->new_session().value());
      ASSERT_TRUE(batched.back()->evaluate(p).ok());
      ASSERT_TRUE(alone.back()->evaluate(p).ok());
    }
    std::vector<Session*> ptrs = {batched[0].get(), batched[1].get(), batched[2].get()};
    float worst = 0;
    for (int step = 0; step < 5; ++step) {
      const std::vector<int32_t> toks = {static_cast<int32_t>(20 + step), static_cast<int32_t>(60 + step), 90};
      auto out = (*e)->decode_batch(ptrs, toks);
      ASSERT_TRUE(out.ok()) << out.error().message;
      for (size_t i = 0; i < 3; ++i) {
        auto want = alone[i]->evaluate(std::span(&toks[i], 1));
        ASSERT_TRUE(want.ok());
        ASSERT_EQ((*out)[i].size(), want->size());
        for (size_t v = 0; v < want->size(); ++v) worst = std::max(worst, std::abs((*out)[i][v] - (*want)[v]));
        EXPECT_EQ(batched[i]->n_past(), alone[i]->n_past());
      }
    }
    EXPECT_LT(worst, 1e-4f) << variant;
  }
  auto e = Engine::load(synth::tiny_model_path("e2b"), EngineOptions{2, "load"});
  auto s = (*e)->new_session().value();
  std::vector<Session*> twice = {s.get(), s.get()};
  EXPECT_FALSE((*e)->decode_batch(twice, std::vector<int32_t>{1, 2}).ok());
}

}  // namespace
}  // namespace pocket
