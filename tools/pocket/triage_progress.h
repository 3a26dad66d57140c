// The progress line of `pocket triage` on stderr: files done, files/s, tokens/s, ETA, files in flight,
// the file just finished. Rates are over the files this run worked on (not those taken from an earlier
// run) and the wall time since the first of them started, so with several files in flight (--jobs)
// they are the throughput, not the inverse of a file's latency.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace pocket::cli {

class TriageProgress {
 public:
  TriageProgress(bool enabled, size_t total, int jobs = 1) : enabled_(enabled), total_(total), jobs_(jobs) {}

  // The model starts on a file (the rates' clock starts with the first).
  void file_started() {
    if (!started_) t0_ = std::chrono::steady_clock::now();
    started_ = true;
  }
  // A file is finished; `resumed`: taken from an earlier run (not counted in the rates); `in_flight`:
  // files the model is still working on.
  void file_done(bool resumed, int64_t tokens, const std::string& path, int in_flight = 0) {
    ++done_;
    if (resumed) {
      ++resumed_;
    } else {
      file_started();
      tokens_ += tokens;
    }
    if (!enabled_) return;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    const size_t worked = done_ - resumed_;
    const double fps = secs > 0 ? static_cast<double>(worked) / secs : 0.0;
    const double tps = secs > 0 ? static_cast<double>(tokens_) / secs : 0.0;
    const double eta = fps > 0 ? static_cast<double>(total_ - done_) / fps : 0.0;
    constexpr int kWidth = 24;
    const int fill = total_ ? static_cast<int>(kWidth * done_ / total_) : kWidth;
    std::string name = path.size() > 32 ? "…" + path.substr(path.size() - 31) : path;
    const std::string flight =
        jobs_ > 1 ? "  " + std::to_string(in_flight) + "/" + std::to_string(jobs_) + " in flight" : "";
    std::fprintf(stderr, "\r\033[K[%s%s] %zu/%zu  %.2f files/s  %.0f tok/s  ETA %s%s  %s",
                 std::string(static_cast<size_t>(fill), '#').c_str(),
                 std::string(static_cast<size_t>(kWidth - fill), ' ').c_str(), done_, total_, fps, tps,
                 duration(eta).c_str(), flight.c_str(), name.c_str());
    std::fflush(stderr);
    shown_ = true;
  }
  void finish() {
    if (shown_) std::fprintf(stderr, "\n");
    shown_ = false;
  }
  ~TriageProgress() { finish(); }

 private:
  static std::string duration(double s) {
    const long t = static_cast<long>(s + 0.5);
    char b[32];
    if (t >= 3600) {
      std::snprintf(b, sizeof b, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    } else {
      std::snprintf(b, sizeof b, "%ldm%02lds", t / 60, t % 60);
    }
    return b;
  }
  bool enabled_;
  size_t total_;
  int jobs_;
  bool started_ = false;
  size_t done_ = 0, resumed_ = 0;
  int64_t tokens_ = 0;
  bool shown_ = false;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace pocket::cli
