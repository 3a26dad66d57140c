// Test helper (unit tests only): the replay corpora under tests/corpus/<area>/ (format seeds and past
// fuzzer finds) that the *_corpus_test.cpp files run through a parser.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace pocket::test {

struct CorpusFile {
  std::string name;  // file name, e.g. "seed-mono.wav" or a fuzzer crash id
  std::vector<uint8_t> bytes;
  // Seeds ("seed*") are valid inputs that must succeed; the other files must only fail cleanly.
  bool is_seed() const { return name.rfind("seed", 0) == 0; }
};

// Every regular file of tests/corpus/<area>/, in directory order (a few hundred KB at most).
// A missing folder fails the calling test and gives no files.
inline std::vector<CorpusFile> read_corpus(const std::string& area) {
  const std::filesystem::path dir = std::filesystem::path(POCKET_SOURCE_DIR) / "tests/corpus" / area;
  std::vector<CorpusFile> files;
  if (!std::filesystem::is_directory(dir)) {
    ADD_FAILURE() << dir << " is not a directory";
    return files;
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    files.push_back({entry.path().filename().string(), {std::istreambuf_iterator<char>(in), {}}});
  }
  return files;
}

}  // namespace pocket::test
