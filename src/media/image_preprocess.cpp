// Gemma 4 image preprocessing (see image_preprocess.h for the reference it reproduces).
//
// The resampler is the separable antialiased convolution shared by PIL's ImagingResample and torch's
// uint8 interpolate(antialias=True) (which ports it): per output index i on an axis of scale
// s = in/out, the filter is centred at s·(i + 0.5), its support 2·max(s, 1) input pixels each side, its
// taps Keys cubic (a = −0.5) evaluated at (j − centre + 0.5)/max(s, 1), normalised to sum 1, then
// quantised to fixed point. Each pass accumulates integers with a +0.5 rounding term, shifts and clamps
// to uint8. Horizontal (width) pass first, then vertical; an axis whose size does not change is skipped.
#include "media/image_preprocess.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace pocket::media {
namespace {

constexpr int kPillowPrecisionBits = 22;  // PIL: 32 − 8 − 2

// Keys cubic convolution kernel with a = −0.5 (PIL's bicubic_filter and torch's aa_filter agree).
double cubic_filter(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

// Fixed-point filter taps for one axis: output i reads input [start[i], start[i] + count[i]) with
// weights taps[i * ksize + k], scaled by 2^precision.
struct FilterBank {
  int ksize = 0;
  int precision = 0;
  std::vector<int> start, count;
  std::vector<int32_t> taps;
};

FilterBank make_filter_bank(int in_size, int out_size, ResampleBackend backend) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 2.0 * filterscale;
  const double inv = 1.0 / filterscale;
  FilterBank bank;
  bank.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  bank.start.resize(out_size);
  bank.count.resize(out_size);
  std::vector<double> w(static_cast<size_t>(out_size) * bank.ksize, 0.0);
  double w_max = 0.0;
  for (int i = 0; i < out_size; ++i) {
    const double center = scale * (i + 0.5);
    // Truncation toward zero, as the references' (int) casts.
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    int xsize = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
    xsize = std::clamp(xsize, 0, bank.ksize);  // torch guards a rare off-by-one from rounding
    double total = 0.0;
    double* wi = &w[static_cast<size_t>(i) * bank.ksize];
    for (int j = 0; j < xsize; ++j) {
      wi[j] = cubic_filter((j + xmin - center + 0.5) * inv);
      total += wi[j];
    }
    if (total != 0.0) {
      for (int j = 0; j < xsize; ++j) {
        wi[j] /= total;
        w_max = std::max(w_max, wi[j]);
      }
    }
    bank.start[i] = xmin;
    bank.count[i] = xsize;
  }
  if (backend == ResampleBackend::kPillow) {
    bank.precision = kPillowPrecisionBits;
  } else {
    // torch: the largest precision (< 22) for which the largest weight still fits in int16.
    int p = 0;
    for (; p < 22; ++p) {
      const int next = static_cast<int>(0.5 + w_max * (1 << (p + 1)));
      if (next >= (1 << 15)) break;
    }
    bank.precision = p;
  }
  bank.taps.resize(w.size());
  const double unit = static_cast<double>(1 << bank.precision);
  for (size_t k = 0; k < w.size(); ++k) {
    const double v = w[k] * unit;
    int32_t q = v < 0 ? static_cast<int32_t>(-0.5 + v) : static_cast<int32_t>(0.5 + v);
    if (backend == ResampleBackend::kTorchvision) q = static_cast<int16_t>(q);  // stored as int16 there
    bank.taps[k] = q;
  }
  return bank;
}

uint8_t round_shift_clamp(int32_t acc, int precision) {
  return static_cast<uint8_t>(std::clamp(acc >> precision, 0, 255));
}

// Width pass: [h][in_w][3] → [h][out_w][3].
std::vector<uint8_t> resample_width(const std::vector<uint8_t>& src, int h, int in_w, int out_w,
                                    ResampleBackend backend) {
  const FilterBank bank = make_filter_bank(in_w, out_w, backend);
  const int32_t half = 1 << (bank.precision - 1);
  std::vector<uint8_t> dst(static_cast<size_t>(h) * out_w * 3);
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = &src[static_cast<size_t>(y) * in_w * 3];
    uint8_t* out = &dst[static_cast<size_t>(y) * out_w * 3];
    for (int x = 0; x < out_w; ++x) {
      const int32_t* taps = &bank.taps[static_cast<size_t>(x) * bank.ksize];
      const uint8_t* in = row + static_cast<size_t>(bank.start[x]) * 3;
      int32_t r = half, g = half, b = half;
      for (int k = 0; k < bank.count[x]; ++k) {
        r += in[k * 3 + 0] * taps[k];
        g += in[k * 3 + 1] * taps[k];
        b += in[k * 3 + 2] * taps[k];
      }
      out[x * 3 + 0] = round_shift_clamp(r, bank.precision);
      out[x * 3 + 1] = round_shift_clamp(g, bank.precision);
      out[x * 3 + 2] = round_shift_clamp(b, bank.precision);
    }
  }
  return dst;
}

// Height pass: [in_h][w][3] → [out_h][w][3], one output row at a time from whole input rows.
std::vector<uint8_t> resample_height(const std::vector<uint8_t>& src, int in_h, int w, int out_h,
                                     ResampleBackend backend) {
  const FilterBank bank = make_filter_bank(in_h, out_h, backend);
  const int32_t half = 1 << (bank.precision - 1);
  const size_t row_len = static_cast<size_t>(w) * 3;
  std::vector<uint8_t> dst(static_cast<size_t>(out_h) * row_len);
  std::vector<int32_t> acc(row_len);
  for (int y = 0; y < out_h; ++y) {
    std::fill(acc.begin(), acc.end(), half);
    const int32_t* taps = &bank.taps[static_cast<size_t>(y) * bank.ksize];
    for (int k = 0; k < bank.count[y]; ++k) {
      const uint8_t* in = &src[static_cast<size_t>(bank.start[y] + k) * row_len];
      const int32_t t = taps[k];
      for (size_t i = 0; i < row_len; ++i) acc[i] += in[i] * t;
    }
    uint8_t* out = &dst[static_cast<size_t>(y) * row_len];
    for (size_t i = 0; i < row_len; ++i) out[i] = round_shift_clamp(acc[i], bank.precision);
  }
  return dst;
}

// uint8 → float32 in [0, 1], rounded exactly like the reference's rescale.
std::array<float, 256> rescale_table(ResampleBackend backend, bool video_processor) {
  std::array<float, 256> t{};
  for (int v = 0; v < 256; ++v) {
    if (backend == ResampleBackend::kTorchvision && !video_processor) {
      // TorchvisionBackend.rescale: uint8 tensor × Python float → float32(v) · float32(1/255).
      t[v] = static_cast<float>(v) * static_cast<float>(1.0 / 255.0);
    } else {
      // PIL backend: float64(v) · (1/255) rounded to float32; the video processor's fused normalise
      // divides by 255.0f. Both equal the correctly rounded v / 255.
      t[v] = static_cast<float>(static_cast<double>(v) * (1.0 / 255.0));
    }
  }
  return t;
}

}  // namespace

bool is_supported_image_token_budget(int max_soft_tokens) {
  return std::find(std::begin(kSupportedImageTokenBudgets), std::end(kSupportedImageTokenBudgets), max_soft_tokens) !=
         std::end(kSupportedImageTokenBudgets);
}

Result<ResizeTarget> image_resize_target(int height, int width, int max_soft_tokens) {
  if (!is_supported_image_token_budget(max_soft_tokens)) {
    return Error{"image token budget " + std::to_string(max_soft_tokens) +
                 " is not supported (use 70, 140, 280, 560 or 1120)"};
  }
  if (height <= 0 || width <= 0) {
    return Error{"cannot resize a zero-size image (" + std::to_string(width) + "x" + std::to_string(height) + ")"};
  }
  // HF get_aspect_ratio_preserving_size, in the same double arithmetic.
  const int64_t max_patches = int64_t{max_soft_tokens} * kImagePoolingKernel * kImagePoolingKernel;
  const int64_t target_px = max_patches * kImagePatchSize * kImagePatchSize;
  const double factor = std::sqrt(static_cast<double>(target_px) / (static_cast<double>(height) * width));
  const int side = kImageSoftTokenSide;
  int64_t th = static_cast<int64_t>(std::floor(factor * height / side)) * side;
  int64_t tw = static_cast<int64_t>(std::floor(factor * width / side)) * side;
  if (th == 0 && tw == 0) {
    return Error{"cannot resize a " + std::to_string(width) + "x" + std::to_string(height) + " image to a 0x0 grid"};
  }
  const int64_t max_side_length = int64_t{max_soft_tokens} * side;
  if (th == 0) {
    th = side;
    tw = std::min(static_cast<int64_t>(std::floor(static_cast<double>(width) / height)) * side, max_side_length);
  } else if (tw == 0) {
    tw = side;
    th = std::min(static_cast<int64_t>(std::floor(static_cast<double>(height) / width)) * side, max_side_length);
  }
  if (th * tw > target_px) {
    return Error{"resizing " + std::to_string(width) + "x" + std::to_string(height) + " to " + std::to_string(tw) +
                 "x" + std::to_string(th) + " exceeds the patch budget"};
  }
  return ResizeTarget{static_cast<int>(th), static_cast<int>(tw)};
}

Image resize_bicubic_antialiased(const Image& src, int out_height, int out_width, ResampleBackend backend) {
  Image out;
  out.width = out_width;
  out.height = out_height;
  std::vector<uint8_t> px = src.rgb;
  if (out_width != src.width) px = resample_width(px, src.height, src.width, out_width, backend);
  if (out_height != src.height) px = resample_height(px, src.height, out_width, out_height, backend);
  out.rgb = std::move(px);
  return out;
}

Result<PixelTensor> preprocess_image(const Image& image, const ImagePreprocessOptions& options) {
  if (image.width <= 0 || image.height <= 0 ||
      image.rgb.size() != static_cast<size_t>(image.width) * image.height * 3) {
    return Error{"cannot preprocess an empty or malformed image"};
  }
  auto target = image_resize_target(image.height, image.width, options.max_soft_tokens);
  if (!target) return target.error();
  const Image resized = resize_bicubic_antialiased(image, target->height, target->width, options.backend);
  const std::array<float, 256> lut = rescale_table(options.backend, options.video_processor);
  PixelTensor t;
  t.height = resized.height;
  t.width = resized.width;
  const size_t plane = static_cast<size_t>(t.height) * t.width;
  t.chw.resize(plane * 3);
  for (size_t i = 0; i < plane; ++i) {
    for (int c = 0; c < 3; ++c) t.chw[c * plane + i] = lut[resized.rgb[i * 3 + c]];
  }
  return t;
}

std::vector<float> image_to_patches(const PixelTensor& pixels) {
  constexpr int p = kImagePatchSize;
  const int hp = pixels.h_patches(), wp = pixels.w_patches();
  std::vector<float> out(static_cast<size_t>(hp) * wp * kImagePatchValues);
  float* o = out.data();
  for (int y = 0; y < hp; ++y) {
    for (int x = 0; x < wp; ++x) {
      for (int py = 0; py < p; ++py) {
        for (int px = 0; px < p; ++px) {
          for (int c = 0; c < 3; ++c) *o++ = pixels.at(c, y * p + py, x * p + px);
        }
      }
    }
  }
  return out;
}

}  // namespace pocket::media
