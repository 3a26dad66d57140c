// Helpers shared by the media end-to-end check tools (tests/vision/*_e2e_check.cpp,
// tests/audio/audio_e2e_check.cpp): reading what the CLI wrote and reporting a failed check.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace pocket::e2e {

// Prints "FAIL: msg" and returns the tools' failure exit status.
inline int fail(const std::string& msg) {
  std::fprintf(stderr, "FAIL: %s\n", msg.c_str());
  return 1;
}

// Every line of a `--ids-out` file (comma-separated token ids), in order.
inline std::vector<std::vector<int32_t>> read_id_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<int32_t>> lines;
  for (std::string line; std::getline(in, line);) {
    std::vector<int32_t> ids;
    std::stringstream ss(line);
    for (std::string item; std::getline(ss, item, ',');) ids.push_back(std::stoi(item));
    lines.push_back(std::move(ids));
  }
  return lines;
}

// The first line: the prompt the CLI evaluated.
inline std::vector<int32_t> read_first_id_line(const std::string& path) {
  auto lines = read_id_lines(path);
  return lines.empty() ? std::vector<int32_t>{} : std::move(lines.front());
}

// A raw little-endian f32 file (logits or embedding rows); empty if it cannot be read.
inline std::vector<float> read_floats(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const auto bytes = static_cast<size_t>(in.tellg());
  std::vector<float> v(bytes / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  return v;
}

// max |a[i] - b[i]| over [begin, end).
inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b, size_t begin, size_t end) {
  double m = 0.0;
  for (size_t i = begin; i < end; ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

}  // namespace pocket::e2e
