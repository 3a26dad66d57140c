// Deterministic, fast random tensor values for synthetic models, encoded row by row into the
// stored weight type. Each row has its own random stream seeded from (seed, tensor name, row), so the
// output does not depend on the thread count, and split expert tensors can reuse a fused tensor's rows.
#include <algorithm>
#include <cstring>
#include <string_view>
#include <thread>

#include "synth/synthetic_model.h"
#include "tensor/quants.h"

namespace pocket::synth::detail {
namespace {

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// splitmix64 stream.
struct Rng {
  uint64_t state;
  uint64_t next() { return mix64(state += 0x9E3779B97F4A7C15ull); }
};

uint64_t hash_name(std::string_view s, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return mix64(h ^ mix64(seed + 0x632BE59BD9B4E019ull));
}

// Irwin–Hall approximation of N(0,1): the sum of four 16-bit uniforms, centred and scaled.
// Mean 0, variance 1, bounded to about ±3.46.
inline float approx_normal(uint64_t r) {
  const uint32_t s = static_cast<uint32_t>(r & 0xFFFF) + static_cast<uint32_t>((r >> 16) & 0xFFFF) +
                     static_cast<uint32_t>((r >> 32) & 0xFFFF) + static_cast<uint32_t>(r >> 48);
  // Var of one 16-bit uniform = (65536² − 1)/12; four of them: (65536² − 1)/3.
  constexpr float kMean = 2.0f * 65535.0f;
  constexpr float kInvStd = 1.0f / 37837.2269f;  // 1 / sqrt((65536² − 1) / 3)
  return (static_cast<float>(s) - kMean) * kInvStd;
}

inline float uniform01(uint64_t r) { return static_cast<float>(r >> 40) * (1.0f / 16777216.0f); }

void gen_row(const TensorRecipe& rc, uint64_t base, int64_t row, float* dst, int64_t n) {
  if (rc.init.kind == Init::FIXED) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = row * n + i;
      dst[i] = k < static_cast<int64_t>(rc.fixed.size()) ? rc.fixed[k] : 0.0f;
    }
    return;
  }
  int64_t src = row;
  if (rc.row_map.rows > 0) {
    src = (row / rc.row_map.rows) * rc.row_map.stride + rc.row_map.offset + row % rc.row_map.rows;
  }
  Rng rng{mix64(base + static_cast<uint64_t>(src) * 0xD1B54A32D192ED03ull)};
  const float a = rc.init.a, b = rc.init.b;
  if (rc.init.kind == Init::NORMAL) {
    for (int64_t i = 0; i < n; ++i) dst[i] = a + b * approx_normal(rng.next());
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = a + (b - a) * uniform01(rng.next());
  }
}

}  // namespace

void fill_tensor(const TensorRecipe& rc, GgmlType type, uint64_t seed, int threads, std::span<uint8_t> out) {
  const int64_t ne0 = rc.ne.empty() ? 1 : rc.ne[0];
  int64_t n_rows = 1;
  for (size_t i = 1; i < rc.ne.size(); ++i) n_rows *= rc.ne[i];
  const size_t row_bytes = row_size(type, ne0);
  const uint64_t base = hash_name(rc.seed_name.empty() ? rc.name : rc.seed_name, seed);

  auto work = [&](int64_t r0, int64_t r1) {
    std::vector<float> buf(ne0);
    for (int64_t r = r0; r < r1; ++r) {
      gen_row(rc, base, r, buf.data(), ne0);
      uint8_t* dst = out.data() + static_cast<size_t>(r) * row_bytes;
      if (type == GgmlType::F32) {
        std::memcpy(dst, buf.data(), row_bytes);
      } else {
        quantize_row(type, buf.data(), dst, ne0);
      }
    }
  };

  const int64_t total = n_rows * ne0;
  int n_threads = std::max(1, threads);
  if (total < (int64_t{1} << 18) || n_rows < 2) n_threads = 1;
  n_threads = static_cast<int>(std::min<int64_t>(n_threads, n_rows));
  if (n_threads == 1) {
    work(0, n_rows);
    return;
  }
  std::vector<std::thread> pool;
  const int64_t per = (n_rows + n_threads - 1) / n_threads;
  for (int t = 0; t < n_threads; ++t) {
    const int64_t r0 = t * per, r1 = std::min(n_rows, r0 + per);
    if (r0 >= r1) break;
    pool.emplace_back(work, r0, r1);
  }
  for (auto& th : pool) th.join();
}

}  // namespace pocket::synth::detail
