#include "kernels/matmul.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "kernels/simd/simd.h"
#include "tensor/quants.h"

namespace pocket {
namespace {

// Below this many tokens each weight row is streamed once per call by the decode kernel (a few
// tokens share every weight load); from it on the weights are repacked into panels and multiplied
// by tile kernels.
constexpr int64_t kGemmMinTokens = 4;
// F32 / F16 / BF16 panels are 2-4x larger and packed by scalar code: worth it for more tokens only.
constexpr int64_t kGemmMinTokensFloat = 16;

// Fewer tokens than this take the decode kernel (see above).
int64_t min_gemm_tokens(GgmlType t) {
  const bool float_weights = t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16;
  return float_weights ? kGemmMinTokensFloat : kGemmMinTokens;
}

// Rows per work item boundary: keeps every chunk a whole number of the kernels' row groups.
constexpr int64_t kRowAlign = 16;

constexpr size_t kPanelAlign = 64;

constexpr int64_t kSlicesPerThread = 8;

// Decode products reading fewer weight bytes than this run on the calling thread: ~15 µs of
// streaming, less than a ThreadPool round trip (pool_round_trip in bench/kernels_bench.cpp).
constexpr size_t kInlineBytes = size_t{384} << 10;

simd::WeightView view(const WeightMatrix& w) { return {w.type, w.data, w.cols, w.rows, w.row_bytes, w.panels}; }

// Row r of w in the GGUF layout: w.row(r), or rebuilt block by block from stored panels into buf.
const uint8_t* gguf_row(const WeightMatrix& w, int64_t r, std::vector<uint8_t>& buf) {
  if (!w.panels) return w.row(r);
  const size_t block = row_size(w.type, 32);
  buf.resize(w.row_bytes);
  for (int64_t b = 0; b < w.cols / 32; ++b) simd::stored_panel_block(view(w), r, b, buf.data() + b * block);
  return buf.data();
}

// Splits [0, rows) into `parts` contiguous chunks aligned to kRowAlign; chunk i is [begin(i), begin(i + 1)).
int64_t chunk_begin(int64_t rows, int64_t parts, int64_t i) {
  if (i >= parts) return rows;
  const int64_t groups = (rows + kRowAlign - 1) / kRowAlign;
  return std::min(rows, (groups * i / parts) * kRowAlign);
}

// POCKET_MATMUL_REFERENCE=1 runs the scalar reference kernels instead (for bisecting numerics).
bool use_reference() {
  static const bool on = [] {
    const char* v = std::getenv("POCKET_MATMUL_REFERENCE");
    return v != nullptr && v[0] != '\0' && v[0] != '0';
  }();
  return on;
}

void matmul_reference(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, int64_t y_stride,
                      ThreadPool& pool, MatmulScratch& scratch) {
  const GgmlType xt = vec_dot_type(w.type);
  const size_t xrow = row_size(xt, w.cols);
  scratch.xq.resize(xrow * static_cast<size_t>(n_tokens));
  for (int64_t t = 0; t < n_tokens; ++t) quantize_row(xt, x + t * w.cols, scratch.xq.data() + t * xrow, w.cols);
  pool.parallel_for(w.rows, 16, [&](int64_t rb, int64_t re, int) {
    std::vector<uint8_t> buf;
    for (int64_t r = rb; r < re; ++r) {
      const uint8_t* row = gguf_row(w, r, buf);
      for (int64_t t = 0; t < n_tokens; ++t) {
        y[t * y_stride + r] = vec_dot_ref(w.type, row, scratch.xq.data() + t * xrow, w.cols);
      }
    }
  });
}

// Per-token block data for a stored-panel matrix (its tiles read token_aux also in decode), at byte
// `offset` of aux (grown as needed; earlier contents are kept). Returns where it starts.
const uint8_t* prepare_aux(const WeightMatrix& w, const simd::ActivationView& xv, std::vector<uint8_t>& aux,
                           size_t offset) {
  const size_t bytes = simd::token_aux_bytes(w.type, w.cols) * static_cast<size_t>(xv.n_tokens);
  if (aux.size() < offset + bytes) aux.resize(offset + bytes);
  simd::prepare_tokens(w.type, xv, w.cols, aux.data() + offset);
  return aux.data() + offset;
}

// Decode-shaped rows [r0, r1): the row kernel, or the tiles for stored panels (r0 a multiple of 16).
void decode_rows(const simd::WeightView& wv, int64_t r0, int64_t r1, const simd::ActivationView& xv, const uint8_t* aux,
                 float* y, int64_t y_stride) {
  if (wv.panels) return simd::gemm_rows(wv, r0, r1, xv, aux, nullptr, y, y_stride);
  simd::matvec_rows(wv, r0, r1, xv, y, y_stride);
}

// Prefill-shaped product (n_tokens ≥ min_gemm_tokens): activations converted to the vec-dot type
// and their per-token block data (prepare_tokens) in one pass over the tokens, then panels of rows
// across the threads. With `input_ready` scratch already holds both for this x and weight type (the
// previous product read the same input), so they are not made again.
void gemm(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, int64_t y_stride, ThreadPool& pool,
          MatmulScratch& scratch, bool input_ready) {
  const GgmlType xt = vec_dot_type(w.type);
  const size_t xrow = row_size(xt, w.cols);
  const size_t aux_bytes = simd::token_aux_bytes(w.type, w.cols);
  if (!input_ready) {
    if (scratch.xq.size() < xrow * static_cast<size_t>(n_tokens)) {
      scratch.xq.resize(xrow * static_cast<size_t>(n_tokens));
    }
    if (scratch.token_aux.size() < aux_bytes * static_cast<size_t>(n_tokens)) {
      scratch.token_aux.resize(aux_bytes * static_cast<size_t>(n_tokens));
    }
    pool.parallel_for(n_tokens, 1, [&](int64_t b, int64_t e, int) {
      uint8_t* xq = scratch.xq.data() + static_cast<size_t>(b) * xrow;
      for (int64_t t = b; t < e; ++t) {
        simd::quantize_activation(xt, x + t * w.cols, xq + static_cast<size_t>(t - b) * xrow, w.cols);
      }
      simd::prepare_tokens(w.type, {xq, xrow, e - b}, w.cols,
                           scratch.token_aux.data() + static_cast<size_t>(b) * aux_bytes);
    });
  }
  const simd::WeightView wv = view(w);
  const simd::ActivationView xv{scratch.xq.data(), xrow, n_tokens};
  const int64_t pr = simd::panel_rows();
  const size_t pbytes = simd::panel_bytes(w.type, w.cols);
  if (scratch.panels.size() < static_cast<size_t>(pool.size())) scratch.panels.resize(static_cast<size_t>(pool.size()));
  const int64_t n_panels = (w.rows + pr - 1) / pr;
  pool.parallel_for(n_panels, 1, [&](int64_t b, int64_t e, int thread) {
    std::vector<uint8_t>& panel = scratch.panels[static_cast<size_t>(thread)];
    if (panel.size() < pbytes + kPanelAlign) panel.resize(pbytes + kPanelAlign);
    // The tile kernels load the panel with aligned vector loads.
    const uintptr_t base = reinterpret_cast<uintptr_t>(panel.data());
    uint8_t* aligned = panel.data() + ((kPanelAlign - base % kPanelAlign) % kPanelAlign);
    simd::gemm_rows(wv, b * pr, std::min(w.rows, e * pr), xv, scratch.token_aux.data(), aligned, y, y_stride);
  });
}

// matmul(), where `input_ready` says scratch already holds x converted for this weight type by a
// prefill-shaped product just before (see gemm).
void matmul_one(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, int64_t y_stride, ThreadPool& pool,
                MatmulScratch& scratch, bool input_ready) {
  if (n_tokens <= 0 || w.rows <= 0) return;
  if (use_reference()) return matmul_reference(w, x, n_tokens, y, y_stride, pool, scratch);
  if (n_tokens >= min_gemm_tokens(w.type)) return gemm(w, x, n_tokens, y, y_stride, pool, scratch, input_ready);
  const GgmlType xt = vec_dot_type(w.type);
  const size_t xrow = row_size(xt, w.cols);
  if (scratch.xq.size() < xrow * static_cast<size_t>(n_tokens)) scratch.xq.resize(xrow * static_cast<size_t>(n_tokens));
  uint8_t* xq = scratch.xq.data();
  for (int64_t t = 0; t < n_tokens; ++t) simd::quantize_activation(xt, x + t * w.cols, xq + t * xrow, w.cols);
  const simd::WeightView wv = view(w);
  const simd::ActivationView xv{xq, xrow, n_tokens};
  const uint8_t* aux = w.panels ? prepare_aux(w, xv, scratch.token_aux, 0) : nullptr;
  // Small matrices: waking the workers costs more than reading the weights on this thread.
  if (w.row_bytes * static_cast<size_t>(w.rows) * static_cast<size_t>(n_tokens) < kInlineBytes || pool.size() == 1) {
    decode_rows(wv, 0, w.rows, xv, aux, y, y_stride);
    return;
  }
  // Memory-bound: contiguous slices of rows, every weight byte read once. A few slices per thread,
  // so a worker that wakes late still finds work instead of leaving it all to the caller.
  const int64_t parts =
      std::min<int64_t>(int64_t{pool.size()} * kSlicesPerThread, (w.rows + kRowAlign - 1) / kRowAlign);
  pool.parallel_for(parts, 1, [&](int64_t b, int64_t e, int) {
    const int64_t r0 = chunk_begin(w.rows, parts, b), r1 = chunk_begin(w.rows, parts, e);
    if (r0 < r1) decode_rows(wv, r0, r1, xv, aux, y, y_stride);
  });
}

}  // namespace

void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, int64_t y_stride, ThreadPool& pool,
            MatmulScratch& scratch) {
  matmul_one(w, x, n_tokens, y, y_stride, pool, scratch, false);
}

void matmul_many(std::span<const MatmulJob> jobs, ThreadPool& pool, MatmulScratch& scratch) {
  bool grouped = !use_reference() && pool.size() > 1;
  for (const MatmulJob& j : jobs) grouped = grouped && j.n_tokens < min_gemm_tokens(j.w->type);
  if (!grouped) {
    // Prefill-shaped jobs one by one; consecutive jobs reading the same input with the same weight
    // type (q/k/v, gate/up) share its conversion.
    for (size_t i = 0; i < jobs.size(); ++i) {
      const MatmulJob& j = jobs[i];
      const MatmulJob* prev = i > 0 ? &jobs[i - 1] : nullptr;
      const bool ready = prev != nullptr && prev->x == j.x && prev->w->type == j.w->type &&
                         prev->w->cols == j.w->cols && prev->n_tokens == j.n_tokens && prev->w->rows > 0;
      matmul_one(*j.w, j.x, j.n_tokens, j.y, j.y_stride, pool, scratch, ready);
    }
    return;
  }
  const auto job_bytes = [](const MatmulJob& j) {
    return j.w->row_bytes * static_cast<size_t>(j.w->rows) * static_cast<size_t>(j.n_tokens);
  };
  // Activations: one conversion per distinct (x, vec-dot type, width, tokens); xq is sized for the
  // worst case (no sharing) first, so slots never move while they are filled.
  const size_t n_jobs = jobs.size();
  size_t xq_bound = 0, weight_bytes = 0;
  for (const MatmulJob& j : jobs) {
    xq_bound += row_size(vec_dot_type(j.w->type), j.w->cols) * static_cast<size_t>(j.n_tokens);
    weight_bytes += job_bytes(j);
  }
  if (scratch.xq.size() < xq_bound) scratch.xq.resize(xq_bound);
  scratch.job_xq.assign(n_jobs, 0);
  size_t xq_bytes = 0;
  for (size_t i = 0; i < n_jobs; ++i) {
    const MatmulJob& j = jobs[i];
    const GgmlType xt = vec_dot_type(j.w->type);
    const auto same_input = [&](const MatmulJob& o) {
      return o.x == j.x && vec_dot_type(o.w->type) == xt && o.w->cols == j.w->cols && o.n_tokens == j.n_tokens;
    };
    const auto earlier = std::find_if(jobs.begin(), jobs.begin() + static_cast<std::ptrdiff_t>(i), same_input);
    if (earlier != jobs.begin() + static_cast<std::ptrdiff_t>(i)) {
      scratch.job_xq[i] = scratch.job_xq[static_cast<size_t>(earlier - jobs.begin())];
      continue;
    }
    scratch.job_xq[i] = xq_bytes;
    const size_t xrow = row_size(xt, j.w->cols);
    for (int64_t t = 0; t < j.n_tokens; ++t) {
      simd::quantize_activation(xt, j.x + t * j.w->cols, scratch.xq.data() + xq_bytes + t * xrow, j.w->cols);
    }
    xq_bytes += xrow * static_cast<size_t>(j.n_tokens);
  }
  // Stored-panel jobs also read per-token block data: once per converted input and weight type.
  scratch.job_aux.assign(n_jobs, 0);
  size_t aux_bytes = 0;
  for (size_t i = 0; i < n_jobs; ++i) {
    const MatmulJob& j = jobs[i];
    if (!j.w->panels) continue;
    const auto same_aux = [&](const MatmulJob& o) {
      return o.w->panels && o.w->type == j.w->type &&
             scratch.job_xq[static_cast<size_t>(&o - jobs.data())] == scratch.job_xq[i];
    };
    const auto earlier = std::find_if(jobs.begin(), jobs.begin() + static_cast<std::ptrdiff_t>(i), same_aux);
    if (earlier != jobs.begin() + static_cast<std::ptrdiff_t>(i)) {
      scratch.job_aux[i] = scratch.job_aux[static_cast<size_t>(earlier - jobs.begin())];
      continue;
    }
    const simd::ActivationView xv{scratch.xq.data() + scratch.job_xq[i], row_size(vec_dot_type(j.w->type), j.w->cols),
                                  j.n_tokens};
    scratch.job_aux[i] = aux_bytes;
    prepare_aux(*j.w, xv, scratch.token_aux, aux_bytes);
    aux_bytes += simd::token_aux_bytes(j.w->type, j.w->cols) * static_cast<size_t>(j.n_tokens);
  }
  // Slices: each job gets a share of the pool's slices in proportion to the bytes it reads.
  const int64_t target = int64_t{pool.size()} * kSlicesPerThread;
  scratch.slices.clear();
  for (size_t i = 0; i < n_jobs; ++i) {
    const MatmulJob& j = jobs[i];
    const double share = static_cast<double>(job_bytes(j)) / static_cast<double>(std::max<size_t>(weight_bytes, 1));
    const int64_t parts = std::clamp<int64_t>(static_cast<int64_t>(share * static_cast<double>(target) + 0.5), 1,
                                              (j.w->rows + kRowAlign - 1) / kRowAlign);
    for (int64_t p = 0; p < parts; ++p) {
      const int64_t r0 = chunk_begin(j.w->rows, parts, p), r1 = chunk_begin(j.w->rows, parts, p + 1);
      if (r0 < r1) scratch.slices.push_back({static_cast<int32_t>(i), r0, r1});
    }
  }
  const auto run = [&](int64_t b, int64_t e, int) {
    for (int64_t s = b; s < e; ++s) {
      const MatmulScratch::Slice& sl = scratch.slices[static_cast<size_t>(s)];
      const MatmulJob& j = jobs[static_cast<size_t>(sl.job)];
      const simd::ActivationView xv{scratch.xq.data() + scratch.job_xq[static_cast<size_t>(sl.job)],
                                    row_size(vec_dot_type(j.w->type), j.w->cols), j.n_tokens};
      decode_rows(view(*j.w), sl.r0, sl.r1, xv, scratch.token_aux.data() + scratch.job_aux[static_cast<size_t>(sl.job)],
                  j.y, j.y_stride);
    }
  };
  if (weight_bytes < kInlineBytes) return run(0, static_cast<int64_t>(scratch.slices.size()), 0);
  pool.parallel_for(static_cast<int64_t>(scratch.slices.size()), 1, run);
}

void dequantize_matrix_row(const WeightMatrix& w, int64_t r, float* out) {
  if (!w.panels) return dequantize_row(w.type, w.row(r), out, w.cols);
  // Block by block from the stored panels (an embedding lookup per token: no allocation).
  uint8_t block[64];
  for (int64_t b = 0; b < w.cols / 32; ++b) {
    simd::stored_panel_block(view(w), r, b, block);
    dequantize_row(w.type, block, out + 32 * b, 32);
  }
}

}  // namespace pocket
