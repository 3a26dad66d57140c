// A one-line progress bar on stderr for long writes (synthetic models, conversions).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace pocket::cli {

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled), t0_(std::chrono::steady_clock::now()) {}
  void update(uint64_t done, uint64_t total) {
    if (!enabled_ || total == 0) return;
    const double frac = static_cast<double>(done) / static_cast<double>(total);
    constexpr int kWidth = 40;
    const int fill = done >= total ? kWidth : std::min(kWidth - 1, static_cast<int>(frac * kWidth));
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    std::fprintf(stderr, "\r[%s%s] %5.1f%%  %.2f / %.2f GB  %.0fs", std::string(fill, '#').c_str(),
                 std::string(kWidth - fill, ' ').c_str(), 100.0 * frac, static_cast<double>(done) / 1e9,
                 static_cast<double>(total) / 1e9, secs);
    std::fflush(stderr);
    shown_ = true;
  }
  ~ProgressBar() {
    if (shown_) std::fprintf(stderr, "\n");
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace pocket::cli
