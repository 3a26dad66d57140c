#include "encode_audio.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <span>
#include <vector>

#include "cli_util.h"
#include "media/audio_clips.h"
#include "media/audio_decode.h"
#include "media/audio_encoder.h"
#include "media/audio_tower.h"

namespace pocket::cli {
namespace {

Status write_raw_floats(const std::string& path, std::span<const float> v) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return Error{path + ": cannot open for writing"};
  if (std::fwrite(v.data(), sizeof(float), v.size(), f.get()) != v.size()) return Error{path + ": write failed"};
  return {};
}

// Log-mel features of one clip: [n_frames][128].
struct FeatureClip {
  int64_t n_frames = 0;
  std::vector<float> data;
};

Result<FeatureClip> read_feature_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Error{path + ": cannot open"};
  const auto bytes = static_cast<size_t>(in.tellg());
  const size_t row = kAudioMelBins * sizeof(float);
  if (bytes == 0 || bytes % row != 0) {
    return Error{path + ": has " + std::to_string(bytes) + " bytes, expected a positive multiple of " +
                 std::to_string(row) + " (frames x 128 float32 log-mel values)"};
  }
  FeatureClip c;
  c.n_frames = static_cast<int64_t>(bytes / row);
  c.data.resize(bytes / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(c.data.data()), static_cast<std::streamsize>(bytes));
  if (!in) return Error{path + ": read failed"};
  return c;
}

// Log-mel features of every clip of the recording (or of the --features-in file).
Result<std::vector<FeatureClip>> load_clips(const EncodeAudioArgs& a) {
  std::vector<FeatureClip> clips;
  if (!a.features_in.empty()) {
    auto c = read_feature_file(a.features_in);
    if (!c) return c.error();
    clips.push_back(std::move(*c));
    return clips;
  }
  auto audio = media::decode_audio_file(a.audio);
  if (!audio) return audio.error();
  auto split = media::audio_clips_with_features(audio->samples);
  if (!split) return Error{a.audio + ": " + split.error().message};
  for (media::AudioClip& c : *split) clips.push_back({c.features.n_frames, std::move(c.features.data)});
  return clips;
}

// The 12B's encoder-free projection works on the waveform: --preprocessed-out writes the frames it
// projects, [n_soft][640] (each clip's samples cut into 640-sample frames, the last zero-padded).
int encode_unified(const EncodeAudioArgs& a, const MmprojFile& mmproj, const std::string& out,
                   const std::string& preprocessed_out, ThreadPool& pool) {
  if (!a.features_in.empty()) {
    return report_error(mmproj.path() +
                        ": the gemma4ua audio projection reads the raw waveform, not log-mel "
                        "features (--features-in does not apply)");
  }
  auto enc = AudioEncoder::load(mmproj);
  if (!enc) return report_error(enc.error().message);
  auto audio = media::decode_audio_file(a.audio);
  if (!audio) return report_error(audio.error().message);
  auto clips = enc->encode_samples(audio->samples, pool);
  if (!clips) return report_error(a.audio + ": " + clips.error().message);
  std::vector<float> rows, frames;
  int64_t n_soft = 0;
  for (const AudioClipEmbedding& c : *clips) {
    rows.insert(rows.end(), c.rows.begin(), c.rows.end());
    n_soft += c.n_tokens;
    const size_t first = frames.size();
    frames.resize(first + static_cast<size_t>(c.n_tokens * kUnifiedAudioFrame), 0.0f);
    const int64_t used = std::min(c.n_samples, c.n_tokens * kUnifiedAudioFrame);
    std::copy_n(audio->samples.begin() + c.start_sample, used, frames.begin() + static_cast<std::ptrdiff_t>(first));
  }
  if (!preprocessed_out.empty()) {
    if (Status st = write_raw_floats(preprocessed_out, frames); !st) return report_error(st.message());
  }
  if (Status st = write_raw_floats(out, rows); !st) return report_error(st.message());
  std::printf("%lld\n", static_cast<long long>(n_soft));
  std::fprintf(stderr, "pocket encode: %zu audio clip(s), %lld soft tokens x %lld to %s\n", clips->size(),
               static_cast<long long>(n_soft), static_cast<long long>(enc->n_text()), out.c_str());
  return 0;
}

}  // namespace

void add_encode_audio_options(CLI::App* cmd, EncodeAudioArgs& args) {
  auto* audio =
      cmd->add_option("--audio", args.audio, "Audio file (WAV, FLAC, OGG/Vorbis, MP3; any rate, any channels)");
  auto* feats = cmd->add_option("--features-in", args.features_in,
                                "Log-mel features instead of a recording: raw float32 [frames][128]");
  audio->excludes(feats);
}

bool encode_audio_requested(const EncodeAudioArgs& a) { return !a.audio.empty() || !a.features_in.empty(); }

int encode_audio(const EncodeAudioArgs& a, const MmprojFile& mmproj, const std::string& out,
                 const std::string& preprocessed_out, ThreadPool& pool) {
  if (!mmproj.has_audio()) return report_error(mmproj.path() + ": mmproj file has no audio encoder");
  if (mmproj.audio().projector == AudioProjector::kGemma4UA)
    return encode_unified(a, mmproj, out, preprocessed_out, pool);
  auto tower = AudioTower::load(mmproj.gguf());
  if (!tower) return report_error(tower.error().message);
  auto clips = load_clips(a);
  if (!clips) return report_error(clips.error().message);
  // Clips (recordings longer than 30 s) are encoded one by one; their rows follow each other.
  std::vector<float> rows, features;
  int64_t n_soft = 0;
  for (const FeatureClip& c : *clips) {
    auto emb = tower->encode(c.data, c.n_frames, pool);
    if (!emb) return report_error(emb.error().message);
    rows.insert(rows.end(), emb->begin(), emb->end());
    n_soft += static_cast<int64_t>(emb->size()) / tower->n_text();
    features.insert(features.end(), c.data.begin(), c.data.end());
  }
  if (!preprocessed_out.empty()) {
    if (Status st = write_raw_floats(preprocessed_out, features); !st) return report_error(st.message());
  }
  if (Status st = write_raw_floats(out, rows); !st) return report_error(st.message());
  std::printf("%lld\n", static_cast<long long>(n_soft));
  std::fprintf(stderr, "pocket encode: %zu audio clip(s), %lld soft tokens x %lld to %s\n", clips->size(),
               static_cast<long long>(n_soft), static_cast<long long>(tower->n_text()), out.c_str());
  return 0;
}

}  // namespace pocket::cli
