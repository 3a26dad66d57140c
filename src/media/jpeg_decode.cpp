// libjpeg-turbo decoding with errors turned into results. libjpeg reports fatal errors through a callback
// that must not return; it long-jumps back into decode_into(), which therefore touches only memory
// reached through its pointer arguments after the jump (no automatic object it modified is read again).
#include "media/jpeg_decode.h"

#include <jpeglib.h>

#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE
#include <string>
#include <vector>

namespace pocket::media {
namespace {

// Progressive JPEGs may hold any number of scans, each a full pass over the coefficients; real files
// have about 10. The cap stops crafted files from spinning for minutes.
constexpr int kMaxScans = 1000;
// Coefficient buffers of a progressive 100 MP image stay well below this.
constexpr long kMaxMemoryBytes = 1L << 30;

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void on_output_message(j_common_ptr) {}  // warnings (e.g. "corrupt data") are not printed, as in PIL

void on_progress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > kMaxScans) {
    auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
    std::snprintf(err->message, sizeof err->message, "more than %d progressive scans", kMaxScans);
    std::longjmp(err->jump, 1);
  }
}

// PIL: MULDIV255(a, b) = round(a·b / 255) in integers.
inline int muldiv255(int a, int b) {
  const int t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

// Decodes into out->rgb. Returns false (with err->message) when libjpeg gave up.
bool decode_into(j_decompress_ptr cinfo, ErrorManager* err, jpeg_progress_mgr* progress, const uint8_t* data,
                 size_t size, Image* out, std::vector<uint8_t>* row) {
  if (setjmp(err->jump)) return false;
  jpeg_create_decompress(cinfo);
  cinfo->progress = progress;
  cinfo->mem->max_memory_to_use = kMaxMemoryBytes;
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  if (static_cast<int>(cinfo->image_width) != out->width || static_cast<int>(cinfo->image_height) != out->height) {
    std::snprintf(err->message, sizeof err->message, "frame size %ux%u differs from the header's", cinfo->image_width,
                  cinfo->image_height);
    return false;
  }
  const bool cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;  // grayscale → RGB replicates, as PIL's "L" → "RGB"
  jpeg_start_decompress(cinfo);
  const size_t w = cinfo->output_width;
  out->rgb.resize(w * cinfo->output_height * 3);
  row->resize(w * (cmyk ? 4 : 3));
  // PIL reads Adobe CMYK JPEGs as inverted ("CMYK;I").
  const bool inverted = cmyk && cinfo->saw_Adobe_marker;
  while (cinfo->output_scanline < cinfo->output_height) {
    uint8_t* dst = &out->rgb[static_cast<size_t>(cinfo->output_scanline) * w * 3];
    JSAMPROW rows[1] = {cmyk ? row->data() : dst};
    if (jpeg_read_scanlines(cinfo, rows, 1) != 1) break;
    if (!cmyk) continue;
    for (size_t x = 0; x < w; ++x) {
      const uint8_t* p = &(*row)[x * 4];
      auto v = [&](int i) { return inverted ? 255 - p[i] : p[i]; };
      // PIL cmyk2rgb: nk = 255 − k; channel = nk − MULDIV255(c, nk).
      const int nk = 255 - v(3);
      for (int c = 0; c < 3; ++c) dst[x * 3 + c] = static_cast<uint8_t>(nk - muldiv255(v(c), nk));
    }
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

}  // namespace

Result<Image> decode_jpeg_libjpeg(std::span<const uint8_t> bytes, int expect_width, int expect_height) {
  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.output_message = on_output_message;
  jpeg_progress_mgr progress{};
  progress.progress_monitor = on_progress;
  Image img;
  img.width = expect_width;
  img.height = expect_height;
  std::vector<uint8_t> row;
  const bool ok = decode_into(&cinfo, &err, &progress, bytes.data(), bytes.size(), &img, &row);
  jpeg_destroy_decompress(&cinfo);
  if (!ok) return Error{std::string("corrupt JPEG image (") + err.message + ")"};
  return img;
}

}  // namespace pocket::media
