// StreamSplitter: whatever way the output is cut into pieces, the deltas add up to what
// parse_model_output finds in the whole text (thinking, content, tool calls).
#include "server/stream_splitter.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace pocket::server {
namespace {

struct Sum {
  std::string content, reasoning;
  std::vector<ToolCall> calls;
  void add(const StreamSplitter::Delta& d) {
    content += d.content;
    reasoning += d.reasoning;
    calls.insert(calls.end(), d.tool_calls.begin(), d.tool_calls.end());
  }
};

Sum split_at(const std::string& text, const std::vector<size_t>& cuts) {
  StreamSplitter s;
  Sum sum;
  size_t from = 0;
  for (size_t c : cuts) {
    sum.add(s.push(std::string_view(text).substr(from, c - from)));
    from = c;
  }
  sum.add(s.push(std::string_view(text).substr(from)));
  sum.add(s.finish());
  return sum;
}

const std::vector<std::string> kOutputs = {
    "Hello there!",
    "  \n Hello\n\n there  \n",
    "<|channel>thought\nLet me think.\n<channel|>The answer is 4.<turn|>",
    "<|channel>thought\n  <channel|>Empty thought.",
    "<|channel>thought\nfirst<channel|>mid<|channel>thought\nsecond<channel|> end",
    "Sure.<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:3}<tool_call|><|tool_response>",
    "<|tool_call>call:a{}<tool_call|><|tool_call>call:b{x:[1,2,{y:null}]}<tool_call|>",
    "<|channel>thought\ncut off while thinking",
    "a < b <turn and <|chan but not a marker",
    "<|tool_call>call:get_weather{city:<|\"|>Par",  // cut off inside a call: not a call
    "<|tool_call>call:f{x:1}",                      // closing marker missing at the very end: still a call
};

TEST(StreamSplitter, AnyCutsGiveTheWholeTextParse) {
  std::mt19937 rng(3);
  for (const std::string& text : kOutputs) {
    auto whole = parse_model_output(text);
    const bool calls_ok = whole.ok();
    for (int trial = 0; trial < 300; ++trial) {
      std::vector<size_t> cuts;
      const int n = trial == 0 ? 0 : static_cast<int>(rng() % 6);
      for (int i = 0; i < n; ++i) cuts.push_back(rng() % (text.size() + 1));
      if (trial == 1) {
        cuts.clear();
        for (size_t i = 1; i < text.size(); ++i) cuts.push_back(i);  // one byte at a time
      }
      std::sort(cuts.begin(), cuts.end());
      const Sum got = split_at(text, cuts);
      if (calls_ok) {
        EXPECT_EQ(got.content, whole->content) << text;
        EXPECT_EQ(got.reasoning, whole->thinking) << text;
        ASSERT_EQ(got.calls.size(), whole->tool_calls.size()) << text;
        for (size_t i = 0; i < got.calls.size(); ++i) {
          EXPECT_EQ(got.calls[i].name, whole->tool_calls[i].name);
          EXPECT_EQ(got.calls[i].arguments, whole->tool_calls[i].arguments);
        }
      } else {
        EXPECT_TRUE(got.calls.empty()) << text;
        EXPECT_NE(got.content.find("<|tool_call>"), std::string::npos) << text;  // kept as text
      }
    }
  }
}

TEST(StreamSplitter, ReleasesTextAsSoonAsItIsCertain) {
  StreamSplitter s;
  EXPECT_EQ(s.push("Hello <").content, "Hello");  // "<" may start a marker; the space waits for more text
  EXPECT_EQ(s.push("b").content, " <b");
  auto d = s.push("<|channel>thought\nhm");
  EXPECT_EQ(d.reasoning, "hm");
  d = s.push("<channel|>ok<|tool_call>call:f{x:<|\"|>1<|\"|>}");
  EXPECT_EQ(d.content, "ok");
  EXPECT_TRUE(d.tool_calls.empty());  // not closed yet
  d = s.push("<tool_call|>");
  ASSERT_EQ(d.tool_calls.size(), 1u);
  EXPECT_EQ(d.tool_calls[0].name, "f");
  EXPECT_EQ(d.tool_calls[0].arguments, nlohmann::json({{"x", "1"}}));
}

}  // namespace
}  // namespace pocket::server
