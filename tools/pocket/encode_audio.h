// The audio path of `pocket encode` (the command itself lives in cmd_encode.cpp): decodes a recording
// (or reads log-mel features given directly), runs the audio tower and writes the soft tokens.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "kernels/thread_pool.h"
#include "media/mmproj.h"

namespace pocket::cli {

struct EncodeAudioArgs {
  std::string audio;        // recording (WAV/FLAC/OGG/MP3, any rate/channels)
  std::string features_in;  // raw float32 log-mel [frames][128] instead of a recording
};

// Adds --audio and --features-in to the encode command.
void add_encode_audio_options(CLI::App* cmd, EncodeAudioArgs& args);

bool encode_audio_requested(const EncodeAudioArgs& a);

// Runs the audio tower of `mmproj`; writes raw float32 [n_soft][n_text] to `out`, the log-mel features
// [frames][128] to `preprocessed_out` when given, prints n_soft on stdout. Returns the exit code.
int encode_audio(const EncodeAudioArgs& a, const MmprojFile& mmproj, const std::string& out,
                 const std::string& preprocessed_out, ThreadPool& pool);

}  // namespace pocket::cli
