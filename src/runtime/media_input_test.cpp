// Media rows in the decoder (multimodal spec §1): soft-token rows replace placeholder embeddings
// unscaled, the PLE table is read at id 0 for them, image blocks on 26B/31B see each other both ways on
// sliding layers, and prefix reuse matches media by content. Tiny random-weight models.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>

#include "model/gemma4_model.h"
#include "pocket/engine.h"
#include "runtime/media_prompt.h"
#include "synth/tiny_model_cache.h"
#include "tensor/ggml_type.h"

namespace pocket {
namespace {

std::unique_ptr<Engine> tiny_engine(const std::string& variant) {
  auto e = Engine::load(synth::tiny_model_path(variant), EngineOptions{2, "load"});
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
  return e.ok() ? std::move(e).value() : nullptr;
}

// Scaled token embedding rows ([ids.size()][H]), exactly as the decoder builds them for text.
std::vector<float> text_rows(const Engine& e, const std::vector<int32_t>& ids) {
  const int64_t H = e.info().n_embd;
  std::vector<float> rows(ids.size() * H);
  const float scale = std::sqrt(static_cast<float>(H));
  for (size_t i = 0; i < ids.size(); ++i) {
    dequantize_matrix_row(e.model().weights().token_embd, ids[i], rows.data() + i * H);
    for (int64_t j = 0; j < H; ++j) rows[i * H + j] *= scale;
  }
  return rows;
}

std::vector<float> logits_of(Session& s, std::span<const int32_t> toks, std::span<const MediaInput> media) {
  auto r = s.evaluate(toks, media, /*all_logits=*/true);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::vector<float>(r->begin(), r->end()) : std::vector<float>{};
}

constexpr int32_t kPlaceholder = 7;  // any id: its own embedding is replaced

TEST(MediaInput, RowsEqualToTextEmbeddingsGiveTextLogitsExactly_NoPleModel) {
  auto e = tiny_engine("31b");
  ASSERT_TRUE(e);
  const std::vector<int32_t> text = {2, 11, 12, 13, 14, 15, 16};
  auto s1 = e->new_session().value();
  const auto want = logits_of(*s1, text, {});
  std::vector<int32_t> with_ph = text;
  for (int i = 2; i < 5; ++i) with_ph[i] = kPlaceholder;
  const auto rows = text_rows(*e, {12, 13, 14});
  MediaInput m{2, 3, rows, false, 0};
  auto s2 = e->new_session().value();
  const auto got = logits_of(*s2, with_ph, std::span(&m, 1));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << i;
}

TEST(MediaInput, PleReadsPadRowAtMediaPositions_E2bModel) {
  // Rows = embedding of token 0 at positions holding token 0 in the text run: identical only if the
  // PLE lookup at media positions uses id 0 (and the rows are not rescaled).
  auto e = tiny_engine("e2b");
  ASSERT_TRUE(e);
  const std::vector<int32_t> text = {2, 11, 0, 0, 14, 15};
  auto s1 = e->new_session().value();
  const auto want = logits_of(*s1, text, {});
  std::vector<int32_t> with_ph = {2, 11, kPlaceholder, kPlaceholder, 14, 15};
  const auto rows = text_rows(*e, {0, 0});
  MediaInput m{2, 2, rows, false, 0};
  auto s2 = e->new_session().value();
  const auto got = logits_of(*s2, with_ph, std::span(&m, 1));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << i;
}

TEST(MediaInput, BidirectionalBlockSeesLaterRowsCausalBlockDoesNot) {
  auto e = tiny_engine("31b");
  ASSERT_TRUE(e);
  const int64_t H = e->info().n_embd, V = e->info().n_vocab;
  EXPECT_TRUE(e->info().image_tokens_bidirectional);
  const std::vector<int32_t> toks = {2, 11, kPlaceholder, kPlaceholder, kPlaceholder, 12, 13};
  auto rows = text_rows(*e, {20, 21, 22});
  auto perturbed = rows;
  for (int64_t j = 0; j < H; ++j) perturbed[2 * H + j] += 0.5f;  // last row of the block
  for (bool bidir : {false, true}) {
    MediaInput a{2, 3, rows, bidir, 0}, b{2, 3, perturbed, bidir, 0};
    auto sa = e->new_session().value();
    auto sb = e->new_session().value();
    const auto la = logits_of(*sa, toks, std::span(&a, 1));
    const auto lb = logits_of(*sb, toks, std::span(&b, 1));
    float first_row_diff = 0, before_diff = 0;
    for (int64_t v = 0; v < V; ++v) {
      first_row_diff = std::max(first_row_diff, std::abs(la[2 * V + v] - lb[2 * V + v]));
      before_diff = std::max(before_diff, std::abs(la[1 * V + v] - lb[1 * V + v]));
    }
    EXPECT_EQ(before_diff, 0.0f);  // text before the block never sees it
    if (bidir) {
      EXPECT_GT(first_row_diff, 0.0f);
    } else {
      EXPECT_EQ(first_row_diff, 0.0f);
    }
  }
}

TEST(MediaInput, SlicedPromptNeverSplitsBidirectionalBlockAndMatchesOneBatch) {
  auto e = tiny_engine("31b");
  ASSERT_TRUE(e);
  std::vector<int32_t> toks = {2, 11, 12, 13};
  for (int i = 0; i < 5; ++i) toks.push_back(kPlaceholder);
  toks.insert(toks.end(), {14, 15});
  const auto rows = text_rows(*e, {20, 21, 22, 23, 24});
  MediaInput m{4, 5, rows, true, 0};
  auto one = e->new_session().value();
  const auto want = logits_of(*one, toks, std::span(&m, 1));
  SessionOptions small;
  small.max_batch = 6;  // a plain 6-token split would cut the block at index 6
  auto sliced = e->new_session(small).value();
  const auto got = logits_of(*sliced, toks, std::span(&m, 1));
  ASSERT_EQ(got.size(), want.size());
  float max_diff = 0;
  for (size_t i = 0; i < got.size(); ++i) max_diff = std::max(max_diff, std::abs(got[i] - want[i]));
  EXPECT_LT(max_diff, 1e-4f);  // batching changes only f32 summation order
  small.max_batch = 4;         // block longer than the batch: refused with a message
  auto too_small = e->new_session(small).value();
  auto r = too_small->evaluate(toks, std::span(&m, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("one batch"), std::string::npos) << r.error().message;
}

TEST(MediaInput, PrefixReuseMatchesMediaByFingerprint) {
  auto e = tiny_engine("31b");
  ASSERT_TRUE(e);
  const std::vector<int32_t> toks = {2, 11, kPlaceholder, kPlaceholder, 12, 13};
  const auto rows_a = text_rows(*e, {20, 21});
  const auto rows_b = text_rows(*e, {22, 23});
  MediaInput a{2, 2, rows_a, true, media_fingerprint(rows_a)};
  MediaInput b{2, 2, rows_b, true, media_fingerprint(rows_b)};
  auto s = e->new_session().value();
  ASSERT_TRUE(s->evaluate(toks, std::span(&a, 1)).ok());
  EXPECT_EQ(s->reuse_prefix(toks, std::span(&a, 1)), 5);  // all but the last token
  ASSERT_TRUE(s->evaluate(std::span(toks).subspan(5), {}).ok());
  EXPECT_EQ(s->reuse_prefix(toks, std::span(&b, 1)), 2);  // other image: only the text before it
  MediaInput no_fp = a;
  no_fp.fingerprint = 0;
  ASSERT_TRUE(s->evaluate(std::span(toks).subspan(2), std::vector<MediaInput>{{0, 2, rows_a, true, 0}}).ok());
  EXPECT_EQ(s->reuse_prefix(toks, std::span(&no_fp, 1)), 2);  // no fingerprint: never reused
}

TEST(MediaPrompt, ExpandsMarkersAndChecksCounts) {
  MediaTokenIds ids{100, 101, 102, 200, 201, 202};
  auto img = std::make_shared<MediaEmbedding>(MediaEmbedding{MediaKind::kImage, 3, std::vector<float>(6, 1.0f), 9});
  auto aud = std::make_shared<MediaEmbedding>(MediaEmbedding{MediaKind::kAudio, 2, std::vector<float>(4, 2.0f), 0});
  std::vector<std::shared_ptr<const MediaEmbedding>> media = {img, aud};
  auto p = expand_media_markers(std::vector<int32_t>{5, 101, 6, 201, 7}, media, ids, true);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->tokens, (std::vector<int32_t>{5, 100, 101, 101, 101, 102, 6, 200, 201, 201, 202, 7}));
  ASSERT_EQ(p->media.size(), 2u);
  EXPECT_EQ(p->media[0].offset, 2);
  EXPECT_EQ(p->media[0].n_tokens, 3);
  EXPECT_TRUE(p->media[0].bidirectional);
  EXPECT_EQ(p->media[1].offset, 8);
  EXPECT_FALSE(p->media[1].bidirectional);  // audio is always causal
  auto wrong = expand_media_markers(std::vector<int32_t>{101, 101}, media, ids, true);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("2 image marker"), std::string::npos) << wrong.error().message;
  const auto from = media_from(p->media, 3, 2);
  ASSERT_EQ(from.size(), 2u);
  EXPECT_EQ(from[0].offset, 0);
  EXPECT_EQ(from[0].n_tokens, 2);
  EXPECT_EQ(from[0].fingerprint, 0u);
  EXPECT_EQ(from[1].offset, 5);
}

}  // namespace
}  // namespace pocket
