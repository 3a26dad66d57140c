// Video in the prompt (multimodal spec §3, §8.3): one <|video|> marker expands, per frame, into the
// timestamp text "MM:SS " (later frames " MM:SS "), <|image>, n × <|video|>, <image|>; each frame is its
// own media block (bidirectional exactly when images are). Expected token sequences are written out by
// hand for a small vocabulary whose digits, ':' and '▁' are single tokens without merges.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "runtime/conversation.h"
#include "runtime/media_prompt.h"
#include "runtime/test_vocab.h"

namespace pocket {
namespace {

constexpr int32_t kImageBegin = 520, kImageSoft = 521, kImageEnd = 522, kVideoSoft = 523;
constexpr int32_t kDigit0 = 530, kColon = 540, kSpace = 541;  // "0".."9" = 530..539, ":" , "▁"

Tokenizer video_tokenizer() {
  test::SmallVocab sv;
  sv.set(kImageBegin, "<|image>", TokenType::kControl);
  sv.set(kImageSoft, "<|image|>", TokenType::kControl);
  sv.set(kImageEnd, "<image|>", TokenType::kControl);
  sv.set(kVideoSoft, "<|video|>", TokenType::kControl);
  for (int d = 0; d < 10; ++d) sv.set(kDigit0 + d, std::string(1, static_cast<char>('0' + d)), TokenType::kNormal);
  sv.set(kColon, ":", TokenType::kNormal);
  sv.set(kSpace, "\xE2\x96\x81", TokenType::kNormal);
  return std::move(sv).build();
}

int32_t dg(int d) { return kDigit0 + d; }

// Frame rows [n][2] filled with `value`.
VideoFrameRows frame(double t, int64_t n, float value) {
  return {t, n, std::vector<float>(static_cast<size_t>(n * 2), value)};
}

TEST(VideoPrompt, ChatPromptExpandsEachFrameWithItsTimestamp) {
  const Tokenizer tok = video_tokenizer();
  // 0 s, 1.5 s (floored to 00:01) and 61.9 s (01:01); 2, 3 and 2 soft tokens.
  auto video = make_video_embedding(tok, {frame(0.0, 2, 1.0f), frame(1.5, 3, 2.0f), frame(61.9, 2, 3.0f)});
  ASSERT_TRUE(video.ok()) << video.error().message;
  EXPECT_EQ((*video)->n_tokens, 7);
  EXPECT_EQ((*video)->rows.size(), 14u);
  ChatMessage msg;
  msg.role = "user";
  msg.content = {ContentPart::Video(*video), ContentPart::Text("Hi")};
  for (bool bidirectional : {false, true}) {
    auto p = chat_media_prompt(tok, "", {msg}, {}, ChatFormatOptions{}, bidirectional);
    ASSERT_TRUE(p.ok()) << p.error().message;
    const int32_t V = kVideoSoft;
    // The template text around the video (not under test here) as the tokenizer spells it.
    auto text = [&](const char* t) { return tok.encode(t, false, /*parse_special=*/true); };
    std::vector<int32_t> want = text("<bos><|turn>user\n");
    const int64_t head = static_cast<int64_t>(want.size());
    want.insert(want.end(), {
                                dg(0),       dg(0), kColon,    dg(0),     dg(0),     kSpace, kImageBegin,
                                V,           V,     kImageEnd,                                        // "00:00 " 0
                                kSpace,      dg(0), dg(0),     kColon,    dg(0),     dg(1),  kSpace,  // " 00:01 "
                                kImageBegin, V,     V,         V,         kImageEnd,                  // frame 1
                                kSpace,      dg(0), dg(1),     kColon,    dg(0),     dg(1),  kSpace,  // " 01:01 "
                                kImageBegin, V,     V,         kImageEnd,                             // frame 2
                            });
    const auto tail = text("Hi<turn|>\n<|turn>model\n");
    want.insert(want.end(), tail.begin(), tail.end());
    EXPECT_EQ(p->tokens, want);
    ASSERT_EQ(p->media.size(), 3u);
    const int64_t offsets[] = {head + 7, head + 18, head + 30}, counts[] = {2, 3, 2};
    const float values[] = {1.0f, 2.0f, 3.0f};
    for (size_t f = 0; f < 3; ++f) {
      EXPECT_EQ(p->media[f].offset, offsets[f]);
      EXPECT_EQ(p->media[f].n_tokens, counts[f]);
      EXPECT_EQ(p->media[f].bidirectional, bidirectional);
      ASSERT_EQ(p->media[f].embeddings.size(), static_cast<size_t>(counts[f] * 2));
      for (float x : p->media[f].embeddings) EXPECT_EQ(x, values[f]);
      EXPECT_NE(p->media[f].fingerprint, 0u);
      for (int64_t k = 0; k < counts[f]; ++k) EXPECT_EQ(p->tokens[static_cast<size_t>(offsets[f] + k)], V);
    }
    EXPECT_NE(p->media[0].fingerprint, p->media[1].fingerprint);
  }
}

TEST(VideoPrompt, MixesWithImagesAndAudioInPromptOrder) {
  MediaTokenIds ids{100, 101, 102, 200, 201, 202, 300};
  auto img = std::make_shared<MediaEmbedding>(MediaEmbedding{MediaKind::kImage, 2, std::vector<float>(2, 1.0f), 9, {}});
  auto aud = std::make_shared<MediaEmbedding>(MediaEmbedding{MediaKind::kAudio, 1, std::vector<float>(1, 2.0f), 0, {}});
  auto vid = std::make_shared<MediaEmbedding>();
  vid->kind = MediaKind::kVideo;
  vid->n_tokens = 3;
  vid->rows = {5, 6, 7};
  vid->frames = {{{40, 41}, 1, 11}, {{42}, 2, 12}};
  std::vector<std::shared_ptr<const MediaEmbedding>> media = {vid, img, aud};
  auto p = expand_media_markers(std::vector<int32_t>{5, 300, 6, 101, 201, 7}, media, ids, false);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->tokens, (std::vector<int32_t>{5,   40, 41,  100, 300, 102, 42,  100, 300, 300,
                                             102, 6,  100, 101, 101, 102, 200, 201, 202, 7}));
  ASSERT_EQ(p->media.size(), 4u);
  EXPECT_EQ(p->media[0].offset, 4);
  EXPECT_EQ(p->media[0].n_tokens, 1);
  EXPECT_EQ(p->media[0].embeddings[0], 5.0f);
  EXPECT_EQ(p->media[0].fingerprint, 11u);
  EXPECT_EQ(p->media[1].offset, 8);
  EXPECT_EQ(p->media[1].n_tokens, 2);
  EXPECT_EQ(p->media[1].embeddings[0], 6.0f);
  EXPECT_EQ(p->media[1].embeddings[1], 7.0f);
  EXPECT_EQ(p->media[1].fingerprint, 12u);
  EXPECT_EQ(p->media[2].offset, 13);
  EXPECT_EQ(p->media[3].offset, 17);
  for (const MediaInput& m : p->media) EXPECT_FALSE(m.bidirectional);
  // A slice never cuts a bidirectional frame block.
  auto bidir = expand_media_markers(std::vector<int32_t>{5, 300},
                                    std::vector<std::shared_ptr<const MediaEmbedding>>{vid}, ids, true);
  ASSERT_TRUE(bidir.ok()) << bidir.error().message;
  EXPECT_EQ(slice_end_for_media(bidir->media, 9), 10);
}

TEST(VideoPrompt, ErrorsNameTheProblem) {
  const Tokenizer tok = video_tokenizer();
  auto none = make_video_embedding(tok, {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no frames"), std::string::npos) << none.error().message;
  auto empty = make_video_embedding(tok, {frame(0, 1, 1.0f), VideoFrameRows{1.0, 0, {}}});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("frame 1"), std::string::npos) << empty.error().message;

  MediaTokenIds ids{100, 101, 102, 200, 201, 202, 300};
  auto vid = make_video_embedding(tok, {frame(0, 1, 1.0f)});
  ASSERT_TRUE(vid.ok());
  std::vector<std::shared_ptr<const MediaEmbedding>> one = {*vid};
  auto missing = expand_media_markers(std::vector<int32_t>{300, 300}, one, ids, false);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("2 video marker"), std::string::npos) << missing.error().message;
  auto img = std::make_shared<MediaEmbedding>(MediaEmbedding{MediaKind::kImage, 1, std::vector<float>(2, 1.0f), 0, {}});
  std::vector<std::shared_ptr<const MediaEmbedding>> swapped = {img, *vid};
  auto order = expand_media_markers(std::vector<int32_t>{300, 101}, swapped, ids, false);
  ASSERT_FALSE(order.ok());
  EXPECT_NE(order.error().message.find("video marker"), std::string::npos) << order.error().message;
  MediaTokenIds no_video{100, 101, 102, 200, 201, 202};
  auto vocab = expand_media_markers(std::vector<int32_t>{300}, one, no_video, false);
  ASSERT_FALSE(vocab.ok());  // without a video id the marker is plain text: counts differ
  auto bad = std::make_shared<MediaEmbedding>(**vid);
  bad->frames[0].n_tokens = 2;
  auto sums = expand_media_markers(std::vector<int32_t>{300}, std::vector<std::shared_ptr<const MediaEmbedding>>{bad},
                                   ids, false);
  ASSERT_FALSE(sums.ok());
  EXPECT_NE(sums.error().message.find("add up"), std::string::npos) << sums.error().message;

  ChatMessage msg;
  msg.role = "user";
  msg.content = {ContentPart::Video(), ContentPart::Text("Hi")};
  auto unencoded = chat_media_prompt(tok, "", {msg}, {}, ChatFormatOptions{}, false);
  ASSERT_FALSE(unencoded.ok());
  EXPECT_NE(unencoded.error().message.find("a video part"), std::string::npos) << unencoded.error().message;
}

}  // namespace
}  // namespace pocket
