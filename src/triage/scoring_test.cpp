// Label confidences (softmax over the labels' log-probabilities) and the long-document cut.
#include "triage/scoring.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>

namespace pocket::triage {
namespace {

TEST(TriageScoring, ConfidencesAreTheRenormalizedModelProbabilities) {
  // P(a) = 0.2, P(b) = 0.1, P(c) = 0.1 under the model → 0.5, 0.25, 0.25 within the label set.
  const std::vector<double> lp = {std::log(0.2), std::log(0.1), std::log(0.1)};
  const auto c = label_confidences(lp);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_NEAR(c[0], 0.5, 1e-12);
  EXPECT_NEAR(c[1], 0.25, 1e-12);
  EXPECT_NEAR(c[2], 0.25, 1e-12);
}

TEST(TriageScoring, ConfidencesStableForVeryNegativeScores) {
  const std::vector<double> lp = {-1000.0, -1001.0, -5000.0};
  const auto c = label_confidences(lp);
  EXPECT_NEAR(std::accumulate(c.begin(), c.end(), 0.0), 1.0, 1e-12);
  EXPECT_NEAR(c[0] / c[1], std::exp(1.0), 1e-9);
  EXPECT_EQ(c[2], 0.0);
  const double inf = std::numeric_limits<double>::infinity();
  const auto u = label_confidences(std::vector<double>{-inf, -inf});
  EXPECT_DOUBLE_EQ(u[0], 0.5);
  EXPECT_TRUE(label_confidences(std::vector<double>{}).empty());
}

TEST(TriageScoring, LogSumExpMatchesDirectSum) {
  const std::vector<float> x = {1.0f, 2.0f, 3.0f, -100.0f};
  const double want = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0) + std::exp(-100.0));
  EXPECT_NEAR(log_sum_exp(x), want, 1e-6);
  const std::vector<float> big = {1000.0f, 1000.0f};
  EXPECT_NEAR(log_sum_exp(big), 1000.0 + std::log(2.0), 1e-4);
}

TEST(TriageScoring, CutKeepsTwoThirdsHeadOneThirdTail) {
  std::vector<int32_t> doc(100);
  std::iota(doc.begin(), doc.end(), 0);
  const auto whole = cut_document(doc, 100);
  EXPECT_EQ(whole.head.size(), 100u);
  EXPECT_EQ(whole.omitted, 0);
  const auto cut = cut_document(doc, 30);
  ASSERT_EQ(cut.head.size(), 20u);
  ASSERT_EQ(cut.tail.size(), 10u);
  EXPECT_EQ(cut.omitted, 70);
  EXPECT_EQ(cut.head.front(), 0);
  EXPECT_EQ(cut.head.back(), 19);
  EXPECT_EQ(cut.tail.front(), 90);
  EXPECT_EQ(cut.tail.back(), 99);
  const auto odd = cut_document(doc, 31);  // ceil(2/3·31) = 21
  EXPECT_EQ(odd.head.size(), 21u);
  EXPECT_EQ(odd.tail.size(), 10u);
}

}  // namespace
}  // namespace pocket::triage
