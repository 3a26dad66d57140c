// `pocket audio-features`: decode an audio file and write the log-mel features the audio tower sees.
//
//   pocket audio-features --audio F [--out FILE] [--samples-out FILE] [--clips-out FILE] [--max-seconds S]
//
// stdout: "<frames> <n_soft>" — totals over all clips (one clip unless the recording is over 30 s).
// --out:         float32 [frames][128], the clips' feature matrices one after another
// --samples-out: float32 mono 16 kHz samples after decoding, downmix and resampling
// --clips-out:   one line per clip: "<start sample> <n_samples> <frames> <n_soft>"
// Used by the feature tests (tests/audio/) to compare against the numpy reference.
#include <cstdio>
#include <fstream>
#include <memory>
#include <span>
#include <string>

#include "cli_util.h"
#include "commands.h"
#include "media/audio_clips.h"
#include "media/audio_decode.h"

namespace pocket::cli {
namespace {

struct AudioFeaturesArgs {
  std::string audio, out, samples_out, clips_out;
  double max_seconds = media::kDefaultMaxAudioSeconds;
};

Status write_floats(const std::string& path, std::span<const float> values, std::ofstream& file) {
  file.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size_bytes()));
  if (!file) return Error{path + ": write failed"};
  return {};
}

Status write_file(const std::string& path, std::span<const float> values) {
  std::ofstream file(path, std::ios::binary);
  if (!file) return Error{path + ": cannot open for writing"};
  return write_floats(path, values, file);
}

int run_audio_features(const AudioFeaturesArgs& a) {
  auto decoded = media::decode_audio_file(a.audio, media::AudioDecodeOptions{.max_seconds = a.max_seconds});
  if (!decoded) return report_error(decoded.error().message);
  auto clips = media::audio_clips_with_features(decoded->samples);
  if (!clips) return report_error(a.audio + ": " + clips.error().message);

  if (!a.samples_out.empty()) {
    if (Status s = write_file(a.samples_out, decoded->samples); !s) return report_error(s.message());
  }
  int64_t frames = 0, n_soft = 0;
  std::ofstream out;
  if (!a.out.empty()) {
    out.open(a.out, std::ios::binary);
    if (!out) return report_error(a.out + ": cannot open for writing");
  }
  std::string clip_lines;
  for (const media::AudioClip& clip : *clips) {
    frames += clip.features.n_frames;
    n_soft += clip.n_soft_tokens;
    if (out.is_open()) {
      if (Status s = write_floats(a.out, clip.features.data, out); !s) return report_error(s.message());
    }
    clip_lines += std::to_string(clip.range.start) + ' ' + std::to_string(clip.range.n_samples) + ' ' +
                  std::to_string(clip.features.n_frames) + ' ' + std::to_string(clip.n_soft_tokens) + '\n';
  }
  if (!a.clips_out.empty()) {
    std::ofstream f(a.clips_out);
    f << clip_lines;
    if (!f) return report_error(a.clips_out + ": write failed");
  }
  std::printf("%lld %lld\n", static_cast<long long>(frames), static_cast<long long>(n_soft));
  return 0;
}

}  // namespace

void add_audio_features_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<AudioFeaturesArgs>();
  CLI::App* cmd = app.add_subcommand(
      "audio-features", "Decode audio and write its log-mel features (float32 frames x 128); prints \"frames n_soft\"");
  cmd->add_option("--audio", args->audio, "Audio file (WAV, FLAC, OGG, MP3, ...)")->required();
  cmd->add_option("--out", args->out, "Write the features here (float32, frames x 128, clips in order)");
  cmd->add_option("--samples-out", args->samples_out, "Write the decoded 16 kHz mono samples here (float32)");
  cmd->add_option("--clips-out", args->clips_out, "Write one line per clip: start n_samples frames n_soft");
  cmd->add_option("--max-seconds", args->max_seconds, "Refuse longer audio (default 3600)");
  cmd->callback([args, &exit_code] { exit_code = run_audio_features(*args); });
}

}  // namespace pocket::cli
