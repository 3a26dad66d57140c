// The stored-panel layout (stored_panels.h): copying GGUF rows into it at load, rebuilding a block
// of a row from it, and the row-by-row product for targets without its tiles. Plain loops: this runs
// once per weight at load, or per looked-up embedding row.
#include "kernels/simd/stored_panels.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "tensor/quants.h"

namespace pocket::simd {

using namespace stored_panels;  // NOLINT

bool stored_panels_supported(GgmlType t, int64_t cols) {
  return panel_rows() == kRows && (t == GgmlType::Q4_0 || t == GgmlType::Q8_0) && cols > 0 && cols % 64 == 0;
}

size_t stored_panels_bytes(GgmlType t, int64_t rows, int64_t cols) {
  return static_cast<size_t>((rows + kRows - 1) / kRows) * panel_stride(t, cols);
}

void store_panels(const WeightView& w, uint8_t* dst) {
  const size_t qb = quant_bytes(w.type), block = row_size(w.type, 32), ps = panel_stride(w.type, w.cols);
  const int64_t n_units = w.cols / 32, n_panels = (w.rows + kRows - 1) / kRows;
  const int64_t words = w.type == GgmlType::Q4_0 ? 4 : 8;  // 4-byte words of quants per block
  for (int64_t p = 0; p < n_panels; ++p) {
    uint8_t* panel = dst + static_cast<size_t>(p) * ps;
    uint8_t* scales = panel + static_cast<size_t>(n_units) * qb;
    for (int64_t r = 0; r < kRows; ++r) {
      const uint8_t* row = w.data + static_cast<size_t>(std::min(p * kRows + r, w.rows - 1)) * w.row_bytes;
      for (int64_t u = 0; u < n_units; ++u) {
        const uint8_t* b = row + static_cast<size_t>(u) * block;  // f16 d, then the quants
        uint8_t* q = panel + static_cast<size_t>(u) * qb + static_cast<size_t>(4 * r);
        for (int64_t j = 0; j < words; ++j) std::memcpy(q + j * 4 * kRows, b + 2 + 4 * j, 4);
        std::memcpy(scales + static_cast<size_t>(u * 2 * kRows + 2 * r), b, 2);
      }
    }
  }
}

void stored_panel_block(const WeightView& w, int64_t r, int64_t block, uint8_t* out) {
  const size_t qb = quant_bytes(w.type);
  const int64_t n_units = w.cols / 32, rr = r % kRows;
  const int64_t words = w.type == GgmlType::Q4_0 ? 4 : 8;
  const uint8_t* panel = w.data + static_cast<size_t>(r / kRows) * panel_stride(w.type, w.cols);
  const uint8_t* q = panel + static_cast<size_t>(block) * qb + static_cast<size_t>(4 * rr);
  for (int64_t j = 0; j < words; ++j) std::memcpy(out + 2 + 4 * j, q + j * 4 * kRows, 4);
  std::memcpy(out, panel + static_cast<size_t>(n_units) * qb + static_cast<size_t>(block * 2 * kRows + 2 * rr), 2);
}

void stored_panels::rows_fallback(const WeightView& w, int64_t r0, int64_t r1, const ActivationView& x, float* y,
                                  int64_t y_stride) {
  const size_t block = row_size(w.type, 32);
  const int64_t n_units = w.cols / 32;
  std::vector<uint8_t> row(static_cast<size_t>(n_units) * block);
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t u = 0; u < n_units; ++u) stored_panel_block(w, r, u, row.data() + static_cast<size_t>(u) * block);
    const WeightView one{w.type, row.data(), w.cols, 1, row.size()};
    matvec_rows(one, 0, 1, x, y + r, y_stride);  // y is indexed by absolute row
  }
}

}  // namespace pocket::simd
