// 12B unified audio projection: token count, per-frame RMS norm, projection, errors.
#include "media/audio_unified.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

namespace pocket {
namespace {

std::string write_file(const std::string& name, int64_t cols, int64_t rows, const std::string& type = "gemma4ua") {
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("clip"));
  w.set("clip.has_audio_encoder", GgufValue::boolean(true));
  w.set("clip.audio.projector_type", GgufValue::str(type));
  w.set("clip.audio.projection_dim", GgufValue::u32(static_cast<uint32_t>(rows)));
  std::vector<float> v(static_cast<size_t>(cols * rows));
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37f * static_cast<float>(i)) * 0.05f;
  std::vector<uint8_t> bytes(v.size() * sizeof(float));
  std::memcpy(bytes.data(), v.data(), bytes.size());
  w.add_tensor("mm.a.input_projection.weight", GgmlType::F32, {cols, rows}, std::move(bytes));
  const std::string path = (std::filesystem::temp_directory_path() / ("pocket_ua_" + name + ".gguf")).string();
  EXPECT_TRUE(w.write(path).ok());
  return path;
}

TEST(AudioUnified, SoftTokensAreOnePer640SamplesCappedAt750) {
  EXPECT_EQ(unified_audio_soft_tokens(0), 0);
  EXPECT_EQ(unified_audio_soft_tokens(1), 1);
  EXPECT_EQ(unified_audio_soft_tokens(640), 1);
  EXPECT_EQ(unified_audio_soft_tokens(641), 2);
  EXPECT_EQ(unified_audio_soft_tokens(16000), 25);
  EXPECT_EQ(unified_audio_soft_tokens(480000), 750);
  EXPECT_EQ(unified_audio_soft_tokens(480001), 750);
}

TEST(AudioUnified, NormalisesEachFrameThenProjects) {
  const std::string path = write_file("ok", 640, 24);
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.ok());
  auto p = AudioUnifiedProjector::load(*f);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->n_text(), 24);
  ThreadPool pool(1);
  std::vector<float> samples(1000);
  for (size_t i = 0; i < samples.size(); ++i) samples[i] = 0.3f * std::sin(0.01f * static_cast<float>(i));
  auto out = p->encode(samples, pool);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 2u * 24u);
  // Scaling the waveform does not change the result (RMS norm per frame, eps negligible here).
  std::vector<float> louder(samples);
  for (float& s : louder) s *= 3.0f;
  auto out2 = p->encode(louder, pool);
  ASSERT_TRUE(out2.ok());
  for (size_t i = 0; i < out->size(); ++i) EXPECT_NEAR((*out)[i], (*out2)[i], 1e-4);
  // Row 0 by hand: frame 0 normalised, dotted with the weight rows.
  double ss = 0;
  for (int i = 0; i < 640; ++i) ss += double(samples[i]) * samples[i];
  const double inv = 1.0 / std::sqrt(ss / 640 + 1e-6);
  for (int r = 0; r < 24; ++r) {
    double acc = 0;
    for (int c = 0; c < 640; ++c) acc += samples[c] * inv * std::sin(0.37f * static_cast<float>(r * 640 + c)) * 0.05f;
    EXPECT_NEAR((*out)[r], acc, 1e-4);
  }
  EXPECT_FALSE(p->encode({}, pool).ok());
  std::filesystem::remove(path);
}

TEST(AudioUnified, WrongShapeOrProjectorIsNamed) {
  const std::string path = write_file("bad", 320, 24);
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.ok());
  auto p = AudioUnifiedProjector::load(*f);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("'mm.a.input_projection.weight' has shape {320, 24}, expected {640, 24}"),
            std::string::npos)
      << p.error().message;
  const std::string path2 = write_file("type", 640, 24, "gemma4a");
  auto f2 = GgufFile::open(path2);
  ASSERT_TRUE(f2.ok());
  EXPECT_FALSE(AudioUnifiedProjector::load(*f2).ok());
  std::filesystem::remove(path);
  std::filesystem::remove(path2);
}

}  // namespace
}  // namespace pocket
