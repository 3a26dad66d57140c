#include "triage/bounded_queue.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace pocket::triage {
namespace {

TEST(TriageQueue, ProducerBlockedAtCapacityConsumerGetsAllInOrderThenNothingAfterClose) {
  BoundedQueue<int> q(2);
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(q.push(i));
    q.close();
  });
  std::vector<int> got;
  while (auto v = q.pop()) got.push_back(*v);
  producer.join();
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[static_cast<size_t>(i)], i);
  EXPECT_TRUE(q.closed_and_empty());
  EXPECT_FALSE(q.try_pop());
}

TEST(TriageQueue, CloseReleasesAProducerWaitingOnAFullQueue) {
  BoundedQueue<int> q(1);
  ASSERT_TRUE(q.push(1));
  std::thread producer([&] { EXPECT_FALSE(q.push(2)); });
  q.close();
  producer.join();
  EXPECT_EQ(q.pop(), 1);
  EXPECT_FALSE(q.pop());
}

}  // namespace
}  // namespace pocket::triage
