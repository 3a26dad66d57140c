// The "MM:SS" stamp written before each video frame. Kept apart from video_frames.cpp (which needs the
// image libraries) so that library-only cross builds, whose prompt code uses it, still link.
#include <cmath>
#include <cstdio>
#include <string>

#include "media/video_frames.h"

namespace pocket::media {

std::string video_timestamp_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  // HF: f"{int(seconds // 60):02d}:{int(seconds % 60):02d}" (floor division and floor modulo).
  const long long minutes = static_cast<long long>(std::floor(seconds / 60.0));
  const long long secs = static_cast<long long>(std::fmod(seconds, 60.0));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld", minutes, secs);
  return buf;
}

}  // namespace pocket::media
