// Video frames: timestamp text, per-frame 70-token preprocessing and the prompt layout of HF's
// replace_video_token ("MM:SS <|image>" + n × "<|video|>" + "<image|>", frames joined by spaces).
#include "media/video_frames.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "media/test_images.h"

namespace pocket::media {
namespace {

TEST(VideoFrames, TimestampTextIsFlooredMinutesAndSeconds) {
  EXPECT_EQ(video_timestamp_text(0.0), "00:00");
  EXPECT_EQ(video_timestamp_text(1.5), "00:01");
  EXPECT_EQ(video_timestamp_text(59.999), "00:59");
  EXPECT_EQ(video_timestamp_text(60.0), "01:00");
  EXPECT_EQ(video_timestamp_text(3725.5), "62:05");
  EXPECT_EQ(video_timestamp_text(6000.0), "100:00");
  EXPECT_EQ(video_timestamp_text(-3.0), "00:00");
}

TEST(VideoFrames, PromptLayoutAndSeventyTokenFrames) {
  // 1280×720 frames at budget 70 → 288×528 → 6·11 = 66 tokens each (spec §3).
  std::vector<VideoFrame> frames = {{smooth_pattern(1280, 720), 0.0}, {test_pattern(1280, 720), 1.5}};
  auto v = prepare_video_prompt(frames);
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_EQ(v->frames.size(), 2u);
  EXPECT_EQ(v->frames[0].height, 288);
  EXPECT_EQ(v->frames[0].width, 528);
  EXPECT_EQ(v->frames[0].n_soft(), 66);
  ASSERT_EQ(v->parts.size(), 4u);
  EXPECT_EQ(v->parts[0].text, "00:00 ");
  EXPECT_EQ(v->parts[1].frame, 0);
  EXPECT_EQ(v->parts[2].text, " 00:01 ");
  EXPECT_EQ(v->parts[3].frame, 1);
  std::string block = "<|image>";
  for (int i = 0; i < 66; ++i) block += "<|video|>";
  block += "<image|>";
  EXPECT_EQ(video_prompt_text(*v), "00:00 " + block + " 00:01 " + block);

  // Frames are rescaled like the video processor: x / 255.0f.
  Image flat;
  flat.width = 528;
  flat.height = 288;  // already on the 70-token grid: no resize
  flat.rgb.assign(size_t{528} * 288 * 3, 1);
  auto f = prepare_video_prompt({{flat, 0.0}});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->frames[0].chw[0], 1.0f / 255.0f);
}

TEST(VideoFrames, Errors) {
  EXPECT_FALSE(prepare_video_prompt({}).ok());
  auto bad_budget = prepare_video_prompt({{test_pattern(8, 8), 0.0}}, 100);
  ASSERT_FALSE(bad_budget.ok());
  EXPECT_NE(bad_budget.error().message.find("video frame 0"), std::string::npos);
  EXPECT_FALSE(prepare_video_prompt({{Image{}, 0.0}}).ok());
  EXPECT_FALSE(load_video_frame_directory("/nonexistent-dir", 1.0).ok());
  EXPECT_FALSE(load_video_frame_directory(std::filesystem::temp_directory_path().string(), 0.0).ok());
}

TEST(VideoFrames, DirectoryIsSortedByNameWithTimestampsFromFps) {
  const auto dir = std::filesystem::temp_directory_path() / "pocket_video_frames_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::vector<uint8_t>& bytes) {
    std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  };
  write("frame_002.png", encode_png(test_pattern(4, 2)));
  write("frame_001.png", encode_png(test_pattern(2, 2)));
  write("frame_003.BMP", encode_bmp(test_pattern(6, 2)));
  write("notes.txt", {'h', 'i'});
  auto frames = load_video_frame_directory(dir.string(), 2.0);
  ASSERT_TRUE(frames.ok()) << frames.error().message;
  ASSERT_EQ(frames->size(), 3u);
  EXPECT_EQ((*frames)[0].image.width, 2);
  EXPECT_EQ((*frames)[1].image.width, 4);
  EXPECT_EQ((*frames)[2].image.width, 6);
  EXPECT_EQ((*frames)[2].timestamp_seconds, 1.0);
  write("frame_004.png", {0x89, 'P', 'N', 'G'});
  auto broken = load_video_frame_directory(dir.string(), 2.0);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find("frame_004.png"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pocket::media
