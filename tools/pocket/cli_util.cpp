#include "cli_util.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace pocket::cli {

Result<std::vector<int32_t>> parse_token_list(const std::string& text) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find(',', i);
    if (j == std::string::npos) j = text.size();
    std::string item = text.substr(i, j - i);
    const size_t a = item.find_first_not_of(" \t\n");
    const size_t b = item.find_last_not_of(" \t\n");
    item = a == std::string::npos ? "" : item.substr(a, b - a + 1);
    if (item.empty()) {
      if (j == text.size() && !ids.empty() && i == j) break;  // trailing comma
      return Error{"token list: empty entry at position " + std::to_string(ids.size() + 1)};
    }
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (*end != '\0' || errno == ERANGE || v < 0 || v > INT32_MAX) {
      return Error{"token list: '" + item + "' is not a valid token id"};
    }
    ids.push_back(static_cast<int32_t>(v));
    i = j + 1;
  }
  if (ids.empty()) return Error{"token list is empty"};
  return ids;
}

int report_error(const std::string& message) {
  std::fprintf(stderr, "pocket: error: %s\n", message.c_str());
  return 1;
}

}  // namespace pocket::cli
