// Audio tower: token counts (spec §4.3/§4.7), loading errors, output shape, causality, clipping.
#include "media/audio_tower.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "media/audio_tower_internal.h"

namespace pocket {
namespace {

// A tiny gemma4a mmproj written with GgufWriter: d 32, 2 heads × 16, 2 blocks, SSCP channels 8/4.
struct TinyAudioFile {
  std::string path;
  int64_t d = 32, ff = 64, layers = 2, heads = 2, c0 = 8, c1 = 4, out = 24, text = 40;

  void add(GgufWriter& w, const std::string& name, std::vector<int64_t> ne, std::mt19937& rng, float mean, float std) {
    int64_t n = 1;
    for (int64_t e : ne) n *= e;
    std::normal_distribution<float> dist(mean, std);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = dist(rng);
    std::vector<uint8_t> bytes(v.size() * sizeof(float));
    std::memcpy(bytes.data(), v.data(), bytes.size());
    w.add_tensor(name, GgmlType::F32, std::move(ne), std::move(bytes));
  }
  void add_scalar(GgufWriter& w, const std::string& name, float v) {
    std::vector<uint8_t> bytes(sizeof(float));
    std::memcpy(bytes.data(), &v, sizeof v);
    w.add_tensor(name, GgmlType::F32, {1}, std::move(bytes));
  }
  void add_linear(GgufWriter& w, const std::string& base, int64_t cols, int64_t rows, std::mt19937& rng, bool clip) {
    add(w, base + ".weight", {cols, rows}, rng, 0.0f, 1.0f / std::sqrt(static_cast<float>(cols)));
    if (!clip) return;
    add_scalar(w, base + ".input_min", -2.0f);
    add_scalar(w, base + ".input_max", 2.5f);
    add_scalar(w, base + ".output_min", -2.5f);
    add_scalar(w, base + ".output_max", 2.0f);
  }

  // skip: a tensor name left out (to test the error).
  Status write(const std::string& file, const std::string& skip = "", bool wrong_shape = false) {
    path = file;
    GgufWriter w;
    w.set("general.architecture", GgufValue::str("clip"));
    w.set("clip.has_audio_encoder", GgufValue::boolean(true));
    w.set("clip.audio.projector_type", GgufValue::str("gemma4a"));
    w.set("clip.audio.embedding_length", GgufValue::u32(static_cast<uint32_t>(d)));
    w.set("clip.audio.feed_forward_length", GgufValue::u32(static_cast<uint32_t>(ff)));
    w.set("clip.audio.block_count", GgufValue::u32(static_cast<uint32_t>(layers)));
    w.set("clip.audio.attention.head_count", GgufValue::u32(static_cast<uint32_t>(heads)));
    w.set("clip.audio.num_mel_bins", GgufValue::u32(128));
    w.set("clip.audio.projection_dim", GgufValue::u32(static_cast<uint32_t>(text)));
    std::mt19937 rng(7);
    auto maybe = [&](const std::string& name, std::vector<int64_t> ne, float mean, float std) {
      if (name == skip) return;
      if (wrong_shape && name == "a.blk.1.attn_q.weight") ne[0] += 1;
      add(w, name, std::move(ne), rng, mean, std);
    };
    maybe("a.conv1d.0.weight", {3, 3, 1, c0}, 0.0f, 0.3f);
    maybe("a.conv1d.0.norm.weight", {c0}, 1.0f, 0.1f);
    maybe("a.conv1d.1.weight", {3, 3, c0, c1}, 0.0f, 0.1f);
    maybe("a.conv1d.1.norm.weight", {c1}, 1.0f, 0.1f);
    add_linear(w, "a.input_projection", 32 * c1, d, rng, true);
    for (int64_t l = 0; l < layers; ++l) {
      const std::string p = "a.blk." + std::to_string(l) + ".";
      for (const char* n : {"ffn_norm", "ffn_post_norm", "attn_pre_norm", "attn_post_norm", "conv_norm", "norm_conv",
                            "ffn_norm_1", "ffn_post_norm_1", "ln2"}) {
        maybe(p + n + ".weight", {d}, 1.0f, 0.1f);
      }
      maybe(p + "attn_q.weight", {d, d}, 0.0f, 1.0f / std::sqrt(static_cast<float>(d)));
      add_scalar(w, p + "attn_q.input_min", -2.0f);
      for (const char* n : {"attn_k", "attn_v", "attn_out", "conv_pw2"}) add_linear(w, p + n, d, d, rng, true);
      add_linear(w, p + "attn_k_rel", d, d, rng, false);
      maybe(p + "per_dim_scale.weight", {d / heads}, 0.8f, 0.1f);
      add_linear(w, p + "conv_pw1", d, 2 * d, rng, true);
      maybe(p + "conv_dw.weight", {5, d}, 0.0f, 0.4f);
      add_linear(w, p + "ffn_up", d, ff, rng, true);
      add_linear(w, p + "ffn_down", ff, d, rng, true);
      add_linear(w, p + "ffn_up_1", d, ff, rng, true);
      add_linear(w, p + "ffn_down_1", ff, d, rng, true);
    }
    maybe("a.pre_encode.out.weight", {d, out}, 0.0f, 0.2f);
    maybe("a.pre_encode.out.bias", {out}, 0.0f, 0.1f);
    maybe("mm.a.input_projection.weight", {out, text}, 0.0f, 0.2f);
    return w.write(path);
  }
};

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("pocket_audio_" + name + ".gguf")).string();
}

std::vector<float> random_features(int64_t frames, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(-2.0f, 1.5f);
  std::vector<float> f(static_cast<size_t>(frames * kAudioMelBins));
  for (float& x : f) x = dist(rng);
  return f;
}

TEST(AudioTower, SoftTokenCountsAre25PerSecondCappedAt750) {
  // Durations from spec §4.3: 0.5 s → 13, 1 s → 25, 2 s → 50, 5 s → 125, 10 s → 250, 30 s → 750.
  EXPECT_EQ(audio_soft_tokens_for_samples(8000), 13);
  EXPECT_EQ(audio_soft_tokens_for_samples(16000), 25);
  EXPECT_EQ(audio_soft_tokens_for_samples(32000), 50);
  EXPECT_EQ(audio_soft_tokens_for_samples(80000), 125);
  EXPECT_EQ(audio_soft_tokens_for_samples(160000), 250);
  EXPECT_EQ(audio_soft_tokens_for_samples(480000), 750);
  EXPECT_EQ(audio_soft_tokens_for_samples(16000 * 60), 750);
  EXPECT_EQ(audio_soft_tokens_for_samples(160), 0);
  EXPECT_EQ(audio_soft_tokens_for_samples(161), 1);
  EXPECT_EQ(audio_soft_tokens_for_frames(0), 0);
  EXPECT_EQ(audio_soft_tokens_for_frames(1), 1);
  EXPECT_EQ(audio_soft_tokens_for_frames(4), 1);
  EXPECT_EQ(audio_soft_tokens_for_frames(5), 2);
  EXPECT_EQ(audio_soft_tokens_for_frames(kAudioMaxFrames), 750);
}

TEST(AudioTower, RelativeSinusoidsFollowTheTimescales) {
  const auto rows = audio_internal::relative_position_sinusoids(8);  // 4 timescales: 1, 10000^(-1/3), ...
  ASSERT_EQ(rows.size(), static_cast<size_t>(kAudioContextLeft * 8));
  EXPECT_FLOAT_EQ(rows[0], 0.0f);  // dist 0: sin 0
  EXPECT_FLOAT_EQ(rows[4], 1.0f);  // dist 0: cos 0
  EXPECT_NEAR(rows[8 * 3 + 0], std::sin(3.0f), 1e-6);
  EXPECT_NEAR(rows[8 * 3 + 3], std::sin(3.0f * 1e-4f), 1e-6);  // last timescale is 1/10000
  EXPECT_NEAR(rows[8 * 3 + 5], std::cos(3.0f * std::pow(10000.0f, -1.0f / 3.0f)), 1e-6);
}

TEST(AudioTower, EncodesTinyTowerToSoftTokensAndIsCausal) {
  TinyAudioFile tiny;
  ASSERT_TRUE(tiny.write(temp_path("tiny")).ok());
  auto file = GgufFile::open(tiny.path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto tower = AudioTower::load(*file);
  ASSERT_TRUE(tower.ok()) << tower.error().message;
  EXPECT_EQ(tower->config().sscp_c0, 8);
  EXPECT_EQ(tower->config().sscp_c1, 4);
  EXPECT_EQ(tower->config().out_dim, 24);
  ThreadPool pool(2);

  const int64_t frames = 101;  // T1 51, T2 26
  const auto feats = random_features(frames, 3);
  AudioTowerTrace trace;
  auto out = tower->encode(feats, frames, pool, &trace);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->size(), static_cast<size_t>(26 * 40));
  EXPECT_EQ(trace.sscp.size(), static_cast<size_t>(26 * 32));
  EXPECT_EQ(trace.blocks.size(), 2u);
  for (float v : *out) ASSERT_TRUE(std::isfinite(v));

  // Token t sees frames up to 4t + 3 (one frame of look-ahead per convolution); the conformer is causal.
  // So the first 10 tokens of 40 frames equal those of 101 frames.
  auto prefix = tower->encode(std::span<const float>(feats.data(), 40 * 128), 40, pool);
  ASSERT_TRUE(prefix.ok());
  ASSERT_EQ(prefix->size(), static_cast<size_t>(10 * 40));
  for (size_t i = 0; i < prefix->size(); ++i) ASSERT_NEAR((*prefix)[i], (*out)[i], 1e-4) << i;

  // Different content changes the result (the weights are used at all).
  auto other = tower->encode(random_features(frames, 4), frames, pool);
  ASSERT_TRUE(other.ok());
  double diff = 0;
  for (size_t i = 0; i < other->size(); ++i) diff += std::fabs((*other)[i] - (*out)[i]);
  EXPECT_GT(diff, 1.0);
  std::filesystem::remove(tiny.path);
}

TEST(AudioTower, RejectsBadInput) {
  TinyAudioFile tiny;
  ASSERT_TRUE(tiny.write(temp_path("bad_input")).ok());
  auto file = GgufFile::open(tiny.path);
  ASSERT_TRUE(file.ok());
  auto tower = AudioTower::load(*file);
  ASSERT_TRUE(tower.ok());
  ThreadPool pool(1);
  EXPECT_FALSE(tower->encode({}, 0, pool).ok());
  std::vector<float> short_buf(100);
  auto r = tower->encode(short_buf, 2, pool);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("expected 2 frames"), std::string::npos) << r.error().message;
  auto feats = random_features(8, 1);
  feats[5] = std::nanf("");
  EXPECT_FALSE(tower->encode(feats, 8, pool).ok());
  std::filesystem::remove(tiny.path);
}

TEST(AudioTower, MissingOrMisshapedTensorIsNamed) {
  TinyAudioFile tiny;
  ASSERT_TRUE(tiny.write(temp_path("missing"), "a.blk.1.norm_conv.weight").ok());
  auto file = GgufFile::open(tiny.path);
  ASSERT_TRUE(file.ok());
  auto tower = AudioTower::load(*file);
  ASSERT_FALSE(tower.ok());
  EXPECT_NE(tower.error().message.find("missing audio tensor 'a.blk.1.norm_conv.weight'"), std::string::npos)
      << tower.error().message;

  ASSERT_TRUE(tiny.write(temp_path("shape"), "", /*wrong_shape=*/true).ok());
  auto file2 = GgufFile::open(tiny.path);
  ASSERT_TRUE(file2.ok());
  auto tower2 = AudioTower::load(*file2);
  ASSERT_FALSE(tower2.ok());
  EXPECT_NE(tower2.error().message.find("'a.blk.1.attn_q.weight' has shape {33, 32}, expected {32, 32}"),
            std::string::npos)
      << tower2.error().message;
  std::filesystem::remove(temp_path("missing"));
  std::filesystem::remove(temp_path("shape"));
}

// Corrupted files (random bytes changed anywhere: header, metadata, tensor infos, data) must load and
// encode or fail with an error, never crash or hang.
TEST(AudioTower, MutatedFilesFailCleanly) {
  TinyAudioFile tiny;
  ASSERT_TRUE(tiny.write(temp_path("mutate")).ok());
  std::vector<uint8_t> bytes;
  {
    std::FILE* f = std::fopen(tiny.path.c_str(), "rb");
    ASSERT_NE(f, nullptr);
    std::fseek(f, 0, SEEK_END);
    bytes.resize(static_cast<size_t>(std::ftell(f)));
    std::fseek(f, 0, SEEK_SET);
    ASSERT_EQ(std::fread(bytes.data(), 1, bytes.size(), f), bytes.size());
    std::fclose(f);
  }
  std::filesystem::remove(tiny.path);
  ThreadPool pool(1);
  const auto feats = random_features(9, 5);
  std::mt19937 rng(123);
  int loaded = 0;
  for (int iter = 0; iter < 1000; ++iter) {
    std::vector<uint8_t> m = bytes;
    // Mostly the first few KB (header, metadata, tensor infos), sometimes anywhere.
    const size_t span = iter % 3 == 0 ? m.size() : std::min<size_t>(m.size(), 6000);
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) m[rng() % span] = static_cast<uint8_t>(rng());
    auto f = GgufFile::parse(m, "mutated.gguf");
    if (!f) continue;
    auto tower = AudioTower::load(*f);
    if (!tower) continue;
    ++loaded;
    auto out = tower->encode(feats, 9, pool);
    if (out) {
      EXPECT_EQ(out->size(), static_cast<size_t>(3 * tower->n_text()));
    }
  }
  EXPECT_GT(loaded, 0);
}

TEST(AudioTower, FileWithoutAudioEncoderIsRejected) {
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("clip"));
  w.set("clip.has_audio_encoder", GgufValue::boolean(false));
  const std::string path = temp_path("no_audio");
  ASSERT_TRUE(w.write(path).ok());
  auto file = GgufFile::open(path);
  ASSERT_TRUE(file.ok());
  auto tower = AudioTower::load(*file);
  ASSERT_FALSE(tower.ok());
  EXPECT_NE(tower.error().message.find("no audio encoder"), std::string::npos) << tower.error().message;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace pocket
