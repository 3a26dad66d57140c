// JPEG decoding through libjpeg-turbo, the library PIL uses, with PIL's settings (accurate integer IDCT,
// fancy upsampling, RGB output; CMYK converted like PIL's convert("RGB")), so decoded pixels equal what
// the Hugging Face reference sees. Used by image_decode.cpp (stb_image's JPEG decoder in Debian 12 reads
// out of bounds on crafted Huffman tables and rounds differently from libjpeg).
#pragma once

#include <cstdint>
#include <span>

#include "common/result.h"
#include "media/image_decode.h"

namespace pocket::media {

// Decodes `bytes` (already known to be JPEG, with dimensions already checked against the limits) into
// RGB. `expect_width`/`expect_height` are the header's values; a mismatch is reported as corruption.
Result<Image> decode_jpeg_libjpeg(std::span<const uint8_t> bytes, int expect_width, int expect_height);

}  // namespace pocket::media
