// `pocket preprocess-image`: decode an image and run the Gemma 4 preprocessing, for tests and tools.
//
//   pocket preprocess-image --image F [--image-tokens N] [--backend torchvision|pillow] [--video-frame]
//                           [--out FILE] [--rgb-out FILE] [--patches-out FILE]
//
// Prints "H W n_soft" (the resized size and the soft-token count) on stdout. --out writes the pixel
// tensor as raw little-endian float32 [3][H][W] (after resize and rescale); --rgb-out writes the decoded
// uint8 RGB [h][w][3] before resizing (so a reference implementation can start from identical pixels);
// --patches-out writes the tower's input order, float32 [n_patches][16·16·3] (media::image_to_patches).
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli_util.h"
#include "commands.h"
#include "media/image_decode.h"
#include "media/image_preprocess.h"

namespace pocket::cli {
namespace {

struct PreprocessArgs {
  std::string image, out, rgb_out, patches_out, backend = "torchvision";
  int image_tokens = media::kDefaultImageTokens;
  bool video_frame = false;
};

bool write_bytes(const std::string& path, const void* data, size_t n) {
  std::ofstream f(path, std::ios::binary);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  return static_cast<bool>(f);
}

int run_preprocess_image(const PreprocessArgs& a) {
  media::ImagePreprocessOptions opts;
  opts.max_soft_tokens = a.image_tokens;
  opts.video_processor = a.video_frame;
  if (a.backend == "torchvision") {
    opts.backend = media::ResampleBackend::kTorchvision;
  } else if (a.backend == "pillow") {
    opts.backend = media::ResampleBackend::kPillow;
  } else {
    return report_error("--backend must be torchvision or pillow (got " + a.backend + ")");
  }
  if (!media::is_supported_image_token_budget(a.image_tokens)) {
    return report_error("--image-tokens must be 70, 140, 280, 560 or 1120 (got " + std::to_string(a.image_tokens) +
                        ")");
  }
  auto img = media::decode_image_file(a.image);
  if (!img) return report_error(img.error().message);
  if (!a.rgb_out.empty() && !write_bytes(a.rgb_out, img->rgb.data(), img->rgb.size())) {
    return report_error(a.rgb_out + ": cannot write");
  }
  auto t = media::preprocess_image(*img, opts);
  if (!t) return report_error(a.image + ": " + t.error().message);
  if (!a.out.empty() && !write_bytes(a.out, t->chw.data(), t->chw.size() * sizeof(float))) {
    return report_error(a.out + ": cannot write");
  }
  if (!a.patches_out.empty()) {
    const std::vector<float> patches = media::image_to_patches(*t);
    if (!write_bytes(a.patches_out, patches.data(), patches.size() * sizeof(float))) {
      return report_error(a.patches_out + ": cannot write");
    }
  }
  std::printf("%d %d %d\n", t->height, t->width, t->n_soft());
  return 0;
}

}  // namespace

void add_preprocess_image_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PreprocessArgs>();
  CLI::App* cmd = app.add_subcommand("preprocess-image", "Decode an image and write Gemma 4's pixel tensor");
  cmd->add_option("--image", args->image, "Image file (PNG, JPEG, WebP, BMP, GIF)")->required();
  cmd->add_option("--image-tokens", args->image_tokens, "Soft-token budget: 70, 140, 280, 560 or 1120");
  cmd->add_option("--backend", args->backend, "Reference resampling to reproduce: torchvision (default) or pillow");
  cmd->add_flag("--video-frame", args->video_frame, "Rescale like the video processor (x / 255)");
  cmd->add_option("--out", args->out, "Write float32 [3][H][W] pixel tensor here");
  cmd->add_option("--rgb-out", args->rgb_out, "Write the decoded uint8 RGB [h][w][3] here");
  cmd->add_option("--patches-out", args->patches_out, "Write float32 [n_patches][768] in the tower's order here");
  cmd->callback([args, &exit_code] { exit_code = run_preprocess_image(*args); });
}

}  // namespace pocket::cli
