// libFuzzer entry for the image input path: any byte string must decode or fail with a message; a decoded
// image must preprocess (smallest budget) without faults. Limits are lowered so the fuzzer explores
// formats instead of spending its time on legitimately large pictures.
#include <cstddef>
#include <cstdint>

#include "media/image_decode.h"
#include "media/image_preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pocket::media::ImageLimits limits;
  limits.max_side = 4096;
  limits.max_pixels = 1 << 20;
  (void)pocket::media::exif_orientation({data, size});
  auto img = pocket::media::decode_image_memory({data, size}, limits);
  if (!img) {
    if (img.error().message.empty()) __builtin_trap();
    return 0;
  }
  if (img->rgb.size() != static_cast<size_t>(img->width) * img->height * 3) __builtin_trap();
  pocket::media::ImagePreprocessOptions opts;
  opts.max_soft_tokens = 70;
  auto t = pocket::media::preprocess_image(*img, opts);
  if (t && t->n_soft() > 70) __builtin_trap();
  return 0;
}
