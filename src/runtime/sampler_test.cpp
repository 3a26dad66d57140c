#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace pocket {
namespace {

TEST(Sampler, GreedyPicksArgmaxAndLowestIdOnTies) {
  Sampler s(SamplingParams::greedy());
  std::vector<float> z = {0.1f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(s.sample(z, {}), 1);
}

TEST(Sampler, SameSeedSameSequence) {
  SamplingParams p;
  p.seed = 42;
  std::vector<float> z(1000);
  for (size_t i = 0; i < z.size(); ++i) z[i] = std::sin(static_cast<float>(i)) * 3.0f;
  Sampler a(p), b(p);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(a.sample(z, {}), b.sample(z, {}));
}

TEST(Sampler, TopKRestrictsToKBest) {
  SamplingParams p;
  p.top_k = 2;
  p.top_p = 1.0f;
  p.seed = 1;
  Sampler s(p);
  std::vector<float> z = {5.0f, 4.9f, 4.8f, 0.0f};
  for (int i = 0; i < 200; ++i) {
    const int32_t t = s.sample(z, {});
    EXPECT_TRUE(t == 0 || t == 1) << t;
  }
}

TEST(Sampler, TopPKeepsSmallestPrefixReachingMass) {
  SamplingParams p;
  p.top_k = 0;
  p.top_p = 0.5f;
  p.seed = 3;
  Sampler s(p);
  // p ≈ [0.64, 0.24, 0.09, 0.03]: top-p 0.5 keeps only token 0.
  std::vector<float> z = {3.0f, 2.0f, 1.0f, 0.0f};
  for (int i = 0; i < 100; ++i) EXPECT_EQ(s.sample(z, {}), 0);
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  SamplingParams p;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.5f;
  p.seed = 5;
  Sampler s(p);
  std::vector<float> z = {2.0f, 2.0f - std::log(1.5f), 0.0f};  // p1/p0 = 0.67 kept; p2/p0 = 0.14 dropped
  std::map<int, int> seen;
  for (int i = 0; i < 300; ++i) ++seen[s.sample(z, {})];
  EXPECT_GT(seen[0], 0);
  EXPECT_GT(seen[1], 0);
  EXPECT_EQ(seen[2], 0);
}

TEST(Sampler, TemperatureSamplingMatchesSoftmaxFrequencies) {
  SamplingParams p;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.temperature = 2.0f;
  p.seed = 11;
  Sampler s(p);
  std::vector<float> z = {2.0f, 0.0f};
  const double p0 = 1.0 / (1.0 + std::exp(-1.0));  // softmax of z/2
  int n0 = 0;
  const int N = 20000;
  for (int i = 0; i < N; ++i) n0 += s.sample(z, {}) == 0;
  EXPECT_NEAR(static_cast<double>(n0) / N, p0, 0.015);
}

TEST(Sampler, PenaltiesAndBiasAndSuppression) {
  std::vector<float> z = {3.0f, 2.9f, 1.0f, 2.95f};
  SamplingParams g = SamplingParams::greedy();
  g.repetition_penalty = 1.5f;
  EXPECT_EQ(Sampler(g).sample(z, std::vector<int32_t>{0}), 3);  // 3/1.5 = 2 < 2.95
  SamplingParams pres = SamplingParams::greedy();
  pres.presence_penalty = 0.2f;
  EXPECT_EQ(Sampler(pres).sample(z, std::vector<int32_t>{0, 0, 0}), 3);
  SamplingParams freq = SamplingParams::greedy();
  freq.frequency_penalty = 0.03f;
  EXPECT_EQ(Sampler(freq).sample(z, std::vector<int32_t>{0, 0, 0}), 3);  // 3 - 0.09 < 2.95
  SamplingParams bias = SamplingParams::greedy();
  bias.logit_bias[2] = 5.0f;
  EXPECT_EQ(Sampler(bias).sample(z, {}), 2);
  SamplingParams sup = SamplingParams::greedy();
  sup.suppress = {0, 3};
  EXPECT_EQ(Sampler(sup).sample(z, {}), 1);
}

}  // namespace
}  // namespace pocket
