#include "server/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace pocket::server {
namespace {

std::string str(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

TEST(Base64, Rfc4648VectorsWithAndWithoutPadding) {
  const std::pair<const char*, const char*> cases[] = {{"", ""},
                                                       {"Zg==", "f"},
                                                       {"Zm8=", "fo"},
                                                       {"Zm9v", "foo"},
                                                       {"Zm9vYg==", "foob"},
                                                       {"Zm9vYmE=", "fooba"},
                                                       {"Zm9vYmFy", "foobar"},
                                                       {"Zm9vYg", "foob"},
                                                       {"Zm9v\nYmFy", "foobar"}};
  for (const auto& [in, want] : cases) {
    auto r = base64_decode(in, 1 << 20);
    ASSERT_TRUE(r.ok()) << in << ": " << r.error().message;
    EXPECT_EQ(str(*r), want) << in;
  }
  EXPECT_EQ(base64_decode("-_8=", 10)->size(), 2u);  // URL-safe alphabet
}

TEST(Base64, ErrorsNameTheProblem) {
  auto bad = base64_decode("Zm9v*mFy", 100);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("offset 4"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(base64_decode("Zm9vY", 100).ok());     // truncated
  EXPECT_FALSE(base64_decode("Zg==Zg==", 100).ok());  // data after padding
  auto big = base64_decode("Zm9vYmFy", 4);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("more than 4 bytes"), std::string::npos);
}

}  // namespace
}  // namespace pocket::server
