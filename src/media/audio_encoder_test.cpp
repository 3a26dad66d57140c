// AudioEncoder: projector dispatch, clip splitting of long recordings, errors.
#include "media/audio_encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

namespace pocket {
namespace {

// A gemma4ua mmproj (the smallest audio projector) for a 16-wide text model.
std::shared_ptr<const GgufFile> unified_file(const std::string& name) {
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("clip"));
  w.set("clip.has_audio_encoder", GgufValue::boolean(true));
  w.set("clip.audio.projector_type", GgufValue::str("gemma4ua"));
  w.set("clip.audio.embedding_length", GgufValue::u32(640));
  w.set("clip.audio.projection_dim", GgufValue::u32(16));
  std::vector<float> v(640 * 16);
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::cos(0.11f * static_cast<float>(i)) * 0.05f;
  std::vector<uint8_t> bytes(v.size() * sizeof(float));
  std::memcpy(bytes.data(), v.data(), bytes.size());
  w.add_tensor("mm.a.input_projection.weight", GgmlType::F32, {640, 16}, std::move(bytes));
  const std::string path = (std::filesystem::temp_directory_path() / ("pocket_enc_" + name + ".gguf")).string();
  EXPECT_TRUE(w.write(path).ok());
  auto f = GgufFile::open(path);
  EXPECT_TRUE(f.ok());
  std::filesystem::remove(path);  // the mapping stays valid
  return std::make_shared<const GgufFile>(std::move(f).value());
}

TEST(AudioEncoder, LongRecordingBecomesClipsInOrder) {
  auto mm = MmprojFile::from_gguf(unified_file("long"), 16);
  ASSERT_TRUE(mm.ok()) << mm.error().message;
  auto enc = AudioEncoder::load(*mm);
  ASSERT_TRUE(enc.ok()) << enc.error().message;
  EXPECT_TRUE(enc->unified());
  EXPECT_EQ(enc->n_text(), 16);
  ThreadPool pool(1);
  // 50 s of a tone with a quiet gap: more than one 30-s clip, clips tile the recording.
  std::vector<float> s(50 * 16000);
  for (size_t i = 0; i < s.size(); ++i) s[i] = (i / 16000) % 7 == 3 ? 0.0f : 0.3f * std::sin(0.05f * i);
  auto clips = enc->encode_samples(s, pool);
  ASSERT_TRUE(clips.ok()) << clips.error().message;
  ASSERT_GE(clips->size(), 2u);
  int64_t next = 0, tokens = 0;
  for (const AudioClipEmbedding& c : *clips) {
    tokens += c.n_tokens;
    EXPECT_EQ(c.start_sample, next);
    EXPECT_LE(c.n_samples, 480000);
    EXPECT_EQ(c.n_tokens, unified_audio_soft_tokens(c.n_samples));
    EXPECT_EQ(c.rows.size(), static_cast<size_t>(c.n_tokens * 16));
    next += c.n_samples;
  }
  EXPECT_EQ(next, static_cast<int64_t>(s.size()));
  EXPECT_EQ(enc->count_tokens(s), tokens);
  EXPECT_FALSE(enc->encode_samples({}, pool).ok());
}

TEST(AudioEncoder, UnreadableAudioIsNamed) {
  auto mm = MmprojFile::from_gguf(unified_file("bad"), 16);
  ASSERT_TRUE(mm.ok());
  auto enc = AudioEncoder::load(*mm);
  ASSERT_TRUE(enc.ok());
  ThreadPool pool(1);
  const std::vector<uint8_t> junk(100, 0x42);
  auto r = enc->encode_memory(junk, "voice memo", pool);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("voice memo"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace pocket
