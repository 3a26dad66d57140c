// Attention over the sliding-window ring: a prompt evaluated in small slices (the ring wraps many
// times, runs of keys split at the wrap) gives the same logits as one batch (no wrap), and the tiled
// prefill path agrees with the per-head decode path.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "pocket/engine.h"
#include "synth/synthetic_model.h"

namespace pocket {
namespace {

std::string tiny_model(const std::string& variant) {
  const auto dir = std::filesystem::temp_directory_path() / "pocket-attention-test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / (variant + ".gguf")).string();
  if (!std::filesystem::exists(path)) {
    synth::SynthOptions o;
    o.variant = variant;
    o.threads = 1;
    EXPECT_TRUE(synth::write_synthetic_model(o, path + ".tmp", {}).ok());
    std::filesystem::rename(path + ".tmp", path);
  }
  return path;
}

std::vector<float> run(Engine& e, const std::vector<int32_t>& toks, int max_batch, int step) {
  SessionOptions so;
  so.context_size = 256;
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
    auto e = Engine::load(tiny_model(variant), EngineOptions{2, "load"});
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

}  // namespace
}  // namespace pocket
