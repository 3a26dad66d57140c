// Base64 (RFC 4648, standard alphabet; the URL-safe '-' '_' accepted too) for media sent in JSON:
// data: URLs and OpenAI's input_audio.data. Whitespace is skipped; padding is optional.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace pocket::server {

// Errors name the first bad character's offset, or a truncated final group.
Result<std::vector<uint8_t>> base64_decode(std::string_view text, size_t max_bytes);

}  // namespace pocket::server
