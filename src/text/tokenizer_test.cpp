// Tokenizer unit tests on small hand-made vocabularies (every rule of llama.cpp's gemma4 tokenizer), the HF
// importer, the vocabulary-swapping GGUF writer, and — when the real Gemma tokenizer.json is in the cache
// (scripts/fetch_tokenizer.sh) — the spec §7.5 test vectors and encoding speed. Token-for-token parity
// with llama.cpp on real text is tested by tests/tokenizer (ctest -L tokenizer).
#include "text/tokenizer.h"

#include <gtest/gtest.h>

#include <ctime>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "synth/synthetic_model.h"
#include "text/hf_tokenizer.h"

namespace pocket {
namespace {

constexpr int32_t kNormal = 1, kControl = 3, kUserDefined = 4, kByte = 6;
const std::string kMark = "\xE2\x96\x81";  // ▁

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("pocket_tokenizer_test_" + name)).string();
}

// A small Gemma-like vocabulary: specials at the front, byte tokens, letters, a few merged pieces.
struct Builder {
  TokenizerVocab v;
  int32_t add(const std::string& text, int32_t type = kNormal) {
    v.tokens.push_back(text);
    v.types.push_back(type);
    return static_cast<int32_t>(v.tokens.size()) - 1;
  }
  void merge(const std::string& a, const std::string& b) { v.merges.push_back(a + " " + b); }
  Tokenizer build() {
    auto t = Tokenizer::from_vocab(v);
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
    return t.ok() ? std::move(t.value()) : Tokenizer();
  }
};

Builder gemma_like() {
  Builder b;
  b.v.pad = b.add("<pad>", kControl);
  b.v.eos = b.add("<eos>", kControl);
  b.v.bos = b.add("<bos>", kControl);
  b.v.unk = b.add("<unk>", kControl);
  b.add("<|turn>", kControl);               // 4
  b.add("<turn|>", kControl);               // 5
  b.add("<|tool_call>", kUserDefined);      // 6
  b.add("<|tool_response>", kUserDefined);  // 7: forced CONTROL (end of generation)
  b.add("</s>");                            // 8: end of generation in llama.cpp's list, demoted (Gemma 4)
  static const char* hex = "0123456789ABCDEF";
  for (int i = 0; i < 256; ++i) b.add(std::string("<0x") + hex[i >> 4] + hex[i & 15] + ">", kByte);  // 9..264
  b.add(kMark);
  b.add("\n");
  b.add("\n\n");
  b.add("\n\n\n");
  for (char c = 'a'; c <= 'z'; ++c) b.add(std::string(1, c));
  for (const char* p : {"<", ">", "|", "/", "\xEF\xBF\xBD"}) b.add(p);
  b.add(kMark + "a");
  b.add("ab");
  b.add("bc");
  b.add("abc");
  b.add("aa");
  b.merge(kMark, "a");  // rank 0
  b.merge("b", "c");    // rank 1
  b.merge("a", "b");    // rank 2
  b.merge("a", "bc");   // rank 3
  b.merge("ab", "c");   // rank 4 (never used: "a bc" comes first)
  b.merge("a", "a");    // rank 5
  b.merge("\n", "\n");  // rank 6
  return b;
}

std::vector<int32_t> ids(const Tokenizer& t, const std::vector<std::string>& texts) {
  std::vector<int32_t> out;
  for (const auto& s : texts) {
    auto id = t.find(s);
    EXPECT_TRUE(id.has_value()) << s;
    out.push_back(id.value_or(-1));
  }
  return out;
}

TEST(Tokenizer, MergesApplyLowestRankFirstAndLeftmostOnTies) {
  Tokenizer t = gemma_like().build();
  // "abc": "b c" (rank 1) beats "a b" (rank 2), then "a bc" (rank 3).
  EXPECT_EQ(t.encode("abc", false, false), ids(t, {"abc"}));
  // "aaa": the leftmost "a a" merges first.
  EXPECT_EQ(t.encode("aaa", false, false), ids(t, {"aa", "a"}));
  EXPECT_EQ(t.encode("abab", false, false), ids(t, {"ab", "ab"}));
}

TEST(Tokenizer, SpacesBecomeMarkWithoutDummyPrefix) {
  Tokenizer t = gemma_like().build();
  EXPECT_EQ(t.encode("a", false, false), ids(t, {"a"}));
  EXPECT_EQ(t.encode(" a", false, false), ids(t, {kMark + "a"}));
  EXPECT_EQ(t.encode("a a ", false, false), ids(t, {"a", kMark + "a", kMark}));
  EXPECT_EQ(t.encode("  a", false, false), ids(t, {kMark, kMark + "a"}));
}

TEST(Tokenizer, UnknownCharactersFallBackToUtf8ByteTokens) {
  Tokenizer t = gemma_like().build();
  EXPECT_EQ(t.encode("\xC3\xA9", false, false), ids(t, {"<0xC3>", "<0xA9>"}));
  EXPECT_EQ(t.encode(std::string("a\0b", 3), false, false), ids(t, {"a", "<0x00>", "b"}));
  EXPECT_EQ(t.encode("A", false, false), ids(t, {"<0x41>"}));
}

TEST(Tokenizer, NewlineRunThatIsATokenIsEmittedWhole) {
  Tokenizer t = gemma_like().build();
  // "\n\n\n" has no merge path ("\n\n" + "\n" is not a merge) but is a token: one id (llama.cpp #21343).
  EXPECT_EQ(t.encode("\n\n\n", false, false), ids(t, {"\n\n\n"}));
  // Four newlines are not a token: BPE ("\n \n" merges twice).
  EXPECT_EQ(t.encode("\n\n\n\n", false, false), ids(t, {"\n\n", "\n\n"}));
  // Newline runs are split from the text around them.
  EXPECT_EQ(t.encode("a\n\n\nb", false, false), ids(t, {"a", "\n\n\n", "b"}));
}

TEST(Tokenizer, ControlTokenTextIsPlainTextUnlessParseSpecial) {
  Tokenizer t = gemma_like().build();
  EXPECT_EQ(t.encode("<|turn>a", false, true), ids(t, {"<|turn>", "a"}));
  EXPECT_EQ(t.encode("<|turn>a", false, false), ids(t, {"<", "|", "t", "u", "r", "n", ">", "a"}));
  EXPECT_EQ(t.encode("<bos>", true, true), ids(t, {"<bos>", "<bos>"}));
}

TEST(Tokenizer, UserDefinedTokensAreAlwaysMatchedExceptEndOfGeneration) {
  Tokenizer t = gemma_like().build();
  EXPECT_EQ(t.encode("a<|tool_call>b", false, false), ids(t, {"a", "<|tool_call>", "b"}));
  // <|tool_response> is USER_DEFINED in the file, but llama.cpp marks end-of-generation texts CONTROL.
  EXPECT_EQ(t.encode("<|tool_response>", false, true), ids(t, {"<|tool_response>"}));
  EXPECT_GT(t.encode("<|tool_response>", false, false).size(), 1u);
  EXPECT_TRUE(t.is_control(*t.find("<|tool_response>")));
}

TEST(Tokenizer, LongerSpecialTokensWinOverlappingShorterOnes) {
  Builder b = gemma_like();
  b.add("<x>", kControl);
  b.add("<x><y>", kControl);
  b.add("<y>", kControl);
  Tokenizer t = b.build();
  EXPECT_EQ(t.encode("<x><y><y>", false, true), ids(t, {"<x><y>", "<y>"}));
  EXPECT_EQ(t.encode("<x><x><y>", false, true), ids(t, {"<x>", "<x><y>"}));
}

TEST(Tokenizer, InvalidUtf8BytesBecomeReplacementCharacters) {
  Tokenizer t = gemma_like().build();
  const auto fffd = ids(t, {"\xEF\xBF\xBD"});
  EXPECT_EQ(t.encode("\x80", false, false), fffd);
  EXPECT_EQ(t.encode("a\xC3", false, false), ids(t, {"a", "\xEF\xBF\xBD"}));
  // Overlong NUL is read as NUL (llama.cpp's decoder), which falls back to <0x00>.
  EXPECT_EQ(t.encode("\xC0\x80", false, false), ids(t, {"<0x00>"}));
  // Above U+10FFFF (llama.cpp throws): each byte is invalid; nothing crashes.
  EXPECT_EQ(t.encode("\xF5\x80\x80\x80", false, false).size(), 4u);
  // Random bytes never crash and always produce tokens.
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string s(1 + rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    EXPECT_FALSE(t.encode(s, false, i % 2 == 0).empty());
  }
}

TEST(Tokenizer, DecodeRendersSpacesBytesAndHidesControlTokens) {
  Tokenizer t = gemma_like().build();
  const auto v = ids(t, {"<bos>", "<|turn>", kMark + "a", "<0xC3>", "<0xA9>", "<|tool_call>", "\n"});
  EXPECT_EQ(t.decode(v), " a\xC3\xA9<|tool_call>\n");
  EXPECT_EQ(t.decode(v, /*render_control=*/true), "<bos><|turn> a\xC3\xA9<|tool_call>\n");
  EXPECT_EQ(t.piece(*t.find(kMark + "a")), kMark + "a");
  const std::vector<int32_t> bad = {-1, 1 << 30};
  EXPECT_EQ(t.decode(bad), "");
  for (const std::string s : {"abc abc", " leading", "trailing  ", "x\n\n\ny", "\xC3\xA9t\xC3\xA9", "<|turn>"}) {
    EXPECT_EQ(t.decode(t.encode(s, false, false)), s);
  }
}

TEST(Tokenizer, StreamDecoderNeverEmitsHalfACharacter) {
  Tokenizer t = gemma_like().build();
  const auto robot = ids(t, {"a", "<0xF0>", "<0x9F>", "<0xA4>", "<0x96>", "b", "<0xE2>"});
  StreamDecoder d(t);
  EXPECT_EQ(d.push(robot[0]), "a");
  EXPECT_EQ(d.push(robot[1]), "");
  EXPECT_EQ(d.push(robot[2]), "");
  EXPECT_EQ(d.push(robot[3]), "");
  EXPECT_EQ(d.push(robot[4]), "\xF0\x9F\xA4\x96");
  EXPECT_EQ(d.push(robot[5]), "b");
  EXPECT_EQ(d.push(robot[6]), "");  // incomplete at the end of the stream
  EXPECT_EQ(d.flush(), "\xE2");
  EXPECT_EQ(d.text(), t.decode(robot));
  // Bytes that can never complete a character pass through at once.
  StreamDecoder e(t);
  EXPECT_EQ(e.push(*t.find("<0xFF>")), "\xFF");
  EXPECT_EQ(e.push(*t.find("<0xE0>")), "");
  EXPECT_EQ(e.push(*t.find("<0x80>")), "\xE0\x80");  // E0 80 is never valid
  // Random byte streams: the concatenation always equals decode().
  std::mt19937 rng(3);
  for (int i = 0; i < 200; ++i) {
    std::vector<int32_t> seq;
    for (int k = 0; k < 20; ++k) seq.push_back(static_cast<int32_t>(rng() % static_cast<uint32_t>(t.n_vocab())));
    StreamDecoder s(t, i % 2 == 0);
    std::string all;
    for (int32_t id : seq) all += s.push(id);
    all += s.flush();
    EXPECT_EQ(all, t.decode(seq, i % 2 == 0));
  }
}

TEST(Tokenizer, EndOfGenerationTokensFollowLlamaCpp) {
  Tokenizer t = gemma_like().build();
  EXPECT_TRUE(t.is_end_of_generation(*t.find("<eos>")));
  EXPECT_TRUE(t.is_end_of_generation(*t.find("<turn|>")));
  EXPECT_TRUE(t.is_end_of_generation(*t.find("<|tool_response>")));
  // "</s>" is in llama.cpp's list, but not for Gemma 4 (it has <|tool_response>): an ordinary token.
  EXPECT_FALSE(t.is_end_of_generation(*t.find("</s>")));
  EXPECT_FALSE(t.is_control(*t.find("</s>")));
  EXPECT_FALSE(t.is_end_of_generation(*t.find("<bos>")));
  EXPECT_EQ(t.bos(), 2);
  EXPECT_EQ(t.eos(), 1);
}

TEST(Tokenizer, ModelWithoutTokenizerMetadataNamesTheMissingKey) {
  const std::string path = temp_path("nokeys.gguf");
  auto try_load = [&](const std::vector<std::pair<std::string, GgufValue>>& kv) -> std::string {
    GgufWriter w;
    w.set("general.architecture", GgufValue::str("gemma4"));
    for (const auto& [k, v] : kv) w.set(k, v);
    EXPECT_TRUE(w.write(path).ok());
    auto f = GgufFile::open(path);
    EXPECT_TRUE(f.ok());
    auto t = Tokenizer::from_gguf(*f);
    return t.ok() ? "" : t.error().message;
  };
  EXPECT_NE(try_load({}).find("tokenizer.ggml.model"), std::string::npos);
  EXPECT_NE(try_load({{"tokenizer.ggml.model", GgufValue::str("gemma4")}}).find("tokenizer.ggml.tokens"),
            std::string::npos);
  EXPECT_NE(try_load({{"tokenizer.ggml.model", GgufValue::str("gemma4")},
                      {"tokenizer.ggml.tokens", GgufValue::str_array({"a", "b"})}})
                .find("tokenizer.ggml.merges"),
            std::string::npos);
  EXPECT_NE(try_load({{"tokenizer.ggml.model", GgufValue::str("llama")}}).find("unsupported"), std::string::npos);
  EXPECT_EQ(try_load({{"tokenizer.ggml.model", GgufValue::str("gemma4")},
                      {"tokenizer.ggml.tokens", GgufValue::str_array({"a", "b", "ab"})},
                      {"tokenizer.ggml.merges", GgufValue::str_array({"a b"})}}),
            "");
  std::filesystem::remove(path);
}

TEST(Tokenizer, DuplicateTokenTextIsAnError) {
  TokenizerVocab v;
  v.tokens = {"a", "b", "a"};
  auto t = Tokenizer::from_vocab(v);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("duplicate"), std::string::npos);
}

const char* kSmallHfJson = R"({
  "added_tokens": [
    {"id": 0, "content": "<pad>", "special": true},
    {"id": 1, "content": "<eos>", "special": true},
    {"id": 2, "content": "<bos>", "special": true},
    {"id": 3, "content": "<unk>", "special": true},
    {"id": 4, "content": "<mask>", "special": false},
    {"id": 9, "content": "<extra>", "special": true},
    {"id": 10, "content": "<|tool_call>", "special": false},
    {"id": 11, "content": "<user>", "special": false}
  ],
  "model": {
    "type": "BPE", "byte_fallback": true, "unk_token": "<unk>",
    "vocab": {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, "<mask>": 4, "<0x41>": 5, "a": 6, "b": 7, "ab": 8},
    "merges": [["a", "b"], "b a", ["a b", "c"]]
  }
})";

TEST(HfTokenizer, ImportsVocabTypesAndMergesLikeTheConverter) {
  auto v = import_hf_tokenizer_json(kSmallHfJson, {});
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_EQ(v->tokens.size(), 12u);
  EXPECT_EQ(v->model, "gemma4");
  EXPECT_EQ(v->tokens[9], "<extra>");
  EXPECT_EQ(v->types, (std::vector<int32_t>{kControl, kControl, kControl, kControl, kNormal, kByte, kNormal, kNormal,
                                            kNormal, kControl, kUserDefined, kUserDefined}));
  EXPECT_EQ(v->merges, (std::vector<std::string>{"a b", "b a",
                                                 "a\xC4\xA0"
                                                 "b c"}));
  EXPECT_EQ(v->bos, 2);
  EXPECT_EQ(v->eos, 1);
  EXPECT_EQ(v->unk, 3);
  EXPECT_EQ(v->pad, 0);
  EXPECT_TRUE(v->add_bos);
  EXPECT_EQ(v->scores, std::vector<float>(12, -1000.0f));

  // The Gemma 4 renaming needs the real 262,144-token vocabulary.
  HfImportOptions g4;
  g4.gemma4_names = true;
  auto r = import_hf_tokenizer_json(kSmallHfJson, g4);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("262,144"), std::string::npos);

  EXPECT_FALSE(import_hf_tokenizer_json("{", {}).ok());
  EXPECT_FALSE(import_hf_tokenizer_json(R"({"model": {"type": "Unigram"}})", {}).ok());
}

TEST(HfTokenizer, VocabSwapRegeneratesEmbeddingRowsAndKeepsOtherTensors) {
  const std::string base = temp_path("base.gguf"), out = temp_path("swapped.gguf");
  synth::SynthOptions opts;
  opts.variant = "e2b";
  opts.type = "q8_0";
  ASSERT_TRUE(synth::write_synthetic_model(opts, base, nullptr).ok());
  auto v = import_hf_tokenizer_json(kSmallHfJson, {});
  ASSERT_TRUE(v.ok());
  {
    auto in = GgufFile::open(base);
    ASSERT_TRUE(in.ok());
    ASSERT_TRUE(write_gguf_with_vocab(*in, *v, out, 5).ok());
  }
  auto a = GgufFile::open(base);
  auto b = GgufFile::open(out);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->tensors().size(), b->tensors().size());
  for (const GgufTensorInfo& ta : a->tensors()) {
    const GgufTensorInfo* tb = b->find_tensor(ta.name);
    ASSERT_NE(tb, nullptr) << ta.name;
    EXPECT_EQ(tb->type, ta.type) << ta.name;
    if (ta.name == "token_embd.weight" || ta.name == "per_layer_token_embd.weight") {
      EXPECT_EQ(tb->ne, (std::vector<int64_t>{ta.ne[0], 12})) << ta.name;
    } else {
      ASSERT_EQ(tb->n_bytes, ta.n_bytes) << ta.name;
      EXPECT_EQ(std::memcmp(tb->data, ta.data, ta.n_bytes), 0) << ta.name;
    }
  }
  EXPECT_EQ(*b->find("general.architecture")->as_string(), "gemma4");
  EXPECT_EQ(b->find("tokenizer.ggml.tokens")->array_size(), 12u);
  EXPECT_EQ(b->find("tokenizer.ggml.pre"), nullptr);
  auto t = Tokenizer::from_gguf(*b);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->encode("ab", false, false), (std::vector<int32_t>{8}));
  std::filesystem::remove(base);
  std::filesystem::remove(out);
}

// ------------------------------------------------------------------------------------------------
// The real vocabulary (skipped unless scripts/fetch_tokenizer.sh has run).

std::string real_tokenizer_json() {
  if (const char* p = std::getenv("POCKET_TOKENIZER_JSON")) return p;
  const char* cache = std::getenv("POCKET_CACHE_DIR");
  const char* home = std::getenv("HOME");
  const std::string root = cache ? cache : std::string(home ? home : "/tmp") + "/.cache/pocket";
  return root + "/tokenizer-gemma3-3.7.2/tokenizer.json";
}

TEST(RealGemmaVocab, SpecTestVectorsChatPromptAndOneMegabyteWellUnderASecond) {
  const std::string path = real_tokenizer_json();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not found (run scripts/fetch_tokenizer.sh)";
  HfImportOptions opts;
  opts.gemma4_names = true;
  auto v = import_hf_tokenizer_file(path, opts);
  ASSERT_TRUE(v.ok()) << v.error().message;
  auto tr = Tokenizer::from_vocab(std::move(v.value()));
  ASSERT_TRUE(tr.ok()) << tr.error().message;
  const Tokenizer& t = *tr;
  EXPECT_EQ(t.n_vocab(), 262144);
  EXPECT_EQ(t.n_merges(), 514906);

  using V = std::vector<int32_t>;
  const std::vector<std::pair<std::string, V>> vectors = {
      {"Hello world", {9259, 1902}},
      {" Hello world", {26352, 1902}},
      {"The quick brown fox jumps over the lazy dog.", {818, 3823, 8864, 37423, 38167, 1024, 506, 31770, 4799, 236761}},
      {"h\xC3\xA9llo \xF0\x9F\xA4\x96 \xE4\xB8\xAD\xE6\x96\x87", {236754, 7869, 844, 236743, 246143, 17346, 237364}},
      {"a\n\nb", {236746, 108, 236763}},
      {"Describe this image.", {82858, 672, 2471, 236761}},
      {"user\n", {2364, 107}},
      {"model\n", {4368, 107}},
      {"\n\n\n\n\n", {111}},
      {"  ", {138}},
      {"<table>", {236820, 5127, 236813}},  // llama.cpp: not atomic (HF gives 168)
  };
  for (const auto& [text, want] : vectors) {
    EXPECT_EQ(t.encode(text, false, false), want) << text;
    EXPECT_EQ(t.encode(text, false, true), want) << text;
    EXPECT_EQ(t.decode(want), text);
  }
  EXPECT_EQ(t.encode("<|turn>user\nHi<turn|>\n<|turn>model\n", true, true),
            (V{2, 105, 2364, 107, 10979, 106, 107, 105, 4368, 107}));
  EXPECT_EQ(t.encode("<|channel>thought\n<channel|>", false, true), (V{100, 45518, 107, 101}));
  for (const auto& [id, text] : std::vector<std::pair<int32_t, std::string>>{{46, "<|tool>"},
                                                                             {50, "<|tool_response>"},
                                                                             {52, "<|\"|>"},
                                                                             {98, "<|think|>"},
                                                                             {255999, "<|image>"},
                                                                             {256000, "<|audio>"},
                                                                             {258880, "<|image|>"},
                                                                             {258884, "<|video|>"}}) {
    EXPECT_EQ(t.piece(id), text);
  }
  EXPECT_TRUE(t.is_end_of_generation(1));
  EXPECT_TRUE(t.is_end_of_generation(106));
  EXPECT_TRUE(t.is_end_of_generation(50));
  EXPECT_EQ(t.end_of_generation_ids().size(), 3u);

  // ~1 MB of varied text (words, punctuation, numbers, newlines, some CJK and emoji).
  std::string text;
  std::mt19937 rng(11);
  const char* words[] = {"the",
                         "of",
                         "and",
                         "government",
                         "people",
                         "Congress",
                         "1987",
                         "3.5%",
                         "nation,",
                         "year.",
                         "\n\n",
                         "\xE4\xB8\xAD\xE6\x96\x87",
                         "\xF0\x9F\xA4\x96",
                         "(see",
                         "below)"};
  while (text.size() < 1000000) {
    text += words[rng() % (sizeof(words) / sizeof(words[0]))];
    text += ' ';
  }
  // CPU time of this (single-threaded) process, so a loaded CI machine does not fail the test; the
  // bounds catch super-linear behaviour (which costs minutes), not small regressions (bench's job).
  auto cpu_seconds = [] { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; };
  const double t0 = cpu_seconds();
  const V out = t.encode(text, false, false);
  const double secs = cpu_seconds() - t0;
  std::printf("encoded %zu bytes into %zu tokens in %.3f s CPU\n", text.size(), out.size(), secs);
  EXPECT_LT(secs, 1.0);
  EXPECT_EQ(t.decode(out), text);
  // The worst case for BPE: 1 MB without a single space.
  const std::string nospace(1000000, 'x');
  const double t1 = cpu_seconds();
  EXPECT_FALSE(t.encode(nospace, false, false).empty());
  EXPECT_LT(cpu_seconds() - t1, 1.0);
}

}  // namespace
}  // namespace pocket
