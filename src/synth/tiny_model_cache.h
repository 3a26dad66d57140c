// Tests' tiny random-weight models: written once per variant into a temporary folder and reused by
// every test that asks for the same variant (see synthetic_model.h for the shapes).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "synth/synthetic_model.h"

namespace pocket::synth {

// Path of the tiny F32 model of `variant` (e.g. "e2b", "26b-a4b"), written on first use. Returns ""
// if it cannot be written (the caller's load then fails with the reason).
inline std::string tiny_model_path(const std::string& variant) {
  const auto dir = std::filesystem::temp_directory_path() / "pocket-tiny-models";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = (dir / (variant + ".gguf")).string();
  if (!std::filesystem::exists(path)) {
    SynthOptions o;
    o.variant = variant;
    o.threads = 1;
    // Written under a unique name and renamed, so tests running in parallel never see half a file.
    const std::string tmp = path + "." + std::to_string(::getpid()) + ".tmp";
    if (!write_synthetic_model(o, tmp, {}).ok()) return "";
    std::filesystem::rename(tmp, path, ec);
  }
  return path;
}

}  // namespace pocket::synth
