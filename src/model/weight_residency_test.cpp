// Weight residency: the huge-page arena's shape, and that where the weights live never changes what
// the model computes (the loaded copy is bit-identical to the mapped file).
#include "model/weight_residency.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "pocket/engine.h"
#include "synth/tiny_model_cache.h"

namespace pocket {
namespace {

TEST(WeightArena, TwoMebibyteAlignedRoundedUpAndMovable) {
  auto a = WeightArena::create(3 * 1000 * 1000);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a->data()) % (uintptr_t{2} << 20), 0u);
  EXPECT_EQ(a->size(), size_t{4} << 20);
  a->data()[a->size() - 1] = 7;  // the whole rounded size is writable
  WeightArena b = std::move(*a);
  EXPECT_EQ(a->data(), nullptr);
  EXPECT_EQ(b.data()[b.size() - 1], 7);
}

TEST(WeightArena, EmptyRequestMapsNothing) {
  auto a = WeightArena::create(0);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->data(), nullptr);
  EXPECT_EQ(a->size(), 0u);
}

std::vector<float> logits_with(const std::string& variant, const std::string& weights) {
  auto e = Engine::load(synth::tiny_model_path(variant), EngineOptions{2, weights});
  EXPECT_TRUE(e) << (e ? "" : e.error().message);
  if (!e) return {};
  auto s = (*e)->new_session({});
  EXPECT_TRUE(s);
  const std::vector<int32_t> prompt = {2, 17, 301, 9, 242, 77};
  auto l = (*s)->evaluate(prompt);
  EXPECT_TRUE(l) << (l ? "" : l.error().message);
  return l ? std::vector<float>(l->begin(), l->end()) : std::vector<float>{};
}

TEST(WeightResidency, LoadedCopyGivesBitIdenticalLogitsToTheMapping) {
  for (const char* variant : {"e2b", "26b-a4b"}) {
    const auto loaded = logits_with(variant, "load");
    const auto mapped = logits_with(variant, "mmap");
    ASSERT_FALSE(loaded.empty());
    EXPECT_EQ(loaded, mapped) << variant;
  }
}

}  // namespace
}  // namespace pocket
