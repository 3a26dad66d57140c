// Micro-benchmarks of the matmul kernels (src/kernels/simd via pocket::matmul) against the scalar
// reference (quantize_row + vec_dot_ref).
//
//   pocket_kernels_bench --benchmark_filter=Decode     decode matvec, GB/s of weights read
//   pocket_kernels_bench --benchmark_filter=Prefill    prefill GEMM (512 tokens), GFLOP/s
//   pocket_kernels_bench --benchmark_filter=attention_layer  attention of one layer (E2B shapes)
//
// Decode runs over enough copies of the matrix to exceed the last-level cache (256 MiB in all), so
// the figure is DRAM streaming bandwidth as in a real forward pass; "hot" variants reuse one copy.
// Arguments: rows, cols, threads.

#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/simd/simd.h"
#include "kernels/thread_pool.h"
#include "model/gemma4_blocks.h"
#include "model/kv_cache.h"
#include "tensor/quants.h"

namespace pocket {
namespace {

constexpr size_t kColdBytes = size_t{256} << 20;

std::vector<float> random_floats(int64_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = normal(rng);
  return v;
}

// rows x cols of type t: 16 distinct reference-quantized rows repeated (content does not change speed).
std::vector<uint8_t> make_weights(GgmlType t, int64_t rows, int64_t cols) {
  const size_t rb = row_size(t, cols);
  std::vector<uint8_t> distinct(rb * 16);
  for (int r = 0; r < 16; ++r) {
    const auto f = random_floats(cols, 10 + static_cast<uint32_t>(r), 0.05f);
    quantize_row(t, f.data(), distinct.data() + rb * static_cast<size_t>(r), cols);
  }
  std::vector<uint8_t> w(rb * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(w.data() + rb * static_cast<size_t>(r), distinct.data() + rb * (r % 16), rb);
  return w;
}

// The weights as the engine holds them after loading: stored panels where the CPU's kernels use them
// (Q4_0 / Q8_0 on AVX-512), else the GGUF rows. Returns the bytes per copy (64-byte multiples).
size_t resident_layout(GgmlType t, int64_t rows, int64_t cols, const std::vector<uint8_t>& gguf, bool panels,
                       std::vector<uint8_t>& out) {
  if (!panels) {
    out = gguf;
    return gguf.size();
  }
  const size_t bytes = (simd::stored_panels_bytes(t, rows, cols) + 63) / 64 * 64;
  out.assign(bytes, 0);
  simd::store_panels({t, gguf.data(), cols, rows, row_size(t, cols)}, out.data());
  return bytes;
}

// `layout`: 0 = GGUF rows, 1 = stored panels (see resident_layout).
void decode(benchmark::State& state, GgmlType t, bool cold, int layout = 0) {
  const int64_t rows = state.range(0), cols = state.range(1);
  const int threads = static_cast<int>(state.range(2));
  const size_t rb = row_size(t, cols);
  const bool panels = layout == 1 && simd::stored_panels_supported(t, cols);
  if (layout == 1 && !panels) return state.SkipWithError("no stored panels for this type / target");
  std::vector<uint8_t> one;
  const size_t bytes = resident_layout(t, rows, cols, make_weights(t, rows, cols), panels, one);
  const size_t copies = cold ? std::max<size_t>(1, kColdBytes / bytes) : 1;
  // 64-byte aligned copies (stored panels are read with aligned loads).
  std::vector<uint8_t> store(bytes * copies + 64);
  uint8_t* all = store.data() + (64 - reinterpret_cast<uintptr_t>(store.data()) % 64) % 64;
  for (size_t c = 0; c < copies; ++c) std::memcpy(all + c * bytes, one.data(), bytes);
  const auto x = random_floats(cols, 1, 1.0f);
  std::vector<float> y(static_cast<size_t>(rows));
  ThreadPool pool(threads);
  MatmulScratch scratch;
  size_t c = 0;
  for (auto _ : state) {
    WeightMatrix w{t, all + c * bytes, cols, rows, rb};
    w.panels = panels;
    matmul(w, x.data(), 1, y.data(), rows, pool, scratch);
    benchmark::DoNotOptimize(y.data());
    c = (c + 1) % copies;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
  state.SetLabel(std::string(simd::target_name()) + (cold ? " cold" : " hot") + (panels ? " panels" : ""));
}

// The old path: reference quantization and vec_dot_ref per row, one thread, hot weights.
void decode_reference(benchmark::State& state, GgmlType t) {
  const int64_t rows = state.range(0), cols = state.range(1);
  const size_t rb = row_size(t, cols);
  const std::vector<uint8_t> w = make_weights(t, rows, cols);
  const auto x = random_floats(cols, 1, 1.0f);
  std::vector<uint8_t> xq(row_size(vec_dot_type(t), cols));
  std::vector<float> y(static_cast<size_t>(rows));
  for (auto _ : state) {
    quantize_row(vec_dot_type(t), x.data(), xq.data(), cols);
    for (int64_t r = 0; r < rows; ++r)
      y[static_cast<size_t>(r)] = vec_dot_ref(t, w.data() + rb * static_cast<size_t>(r), xq.data(), cols);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(rb * static_cast<size_t>(rows)));
  state.SetLabel("scalar reference");
}

void prefill(benchmark::State& state, GgmlType t, int layout = 0) {
  const int64_t rows = state.range(0), cols = state.range(1);
  const int threads = static_cast<int>(state.range(2));
  const int64_t n_tokens = state.range(3);
  const bool panels = layout == 1 && simd::stored_panels_supported(t, cols);
  if (layout == 1 && !panels) return state.SkipWithError("no stored panels for this type / target");
  std::vector<uint8_t> store;
  resident_layout(t, rows, cols, make_weights(t, rows, cols), panels, store);
  store.resize(store.size() + 64);
  const size_t shift = (64 - reinterpret_cast<uintptr_t>(store.data()) % 64) % 64;
  std::memmove(store.data() + shift, store.data(), store.size() - 64);
  const uint8_t* w = store.data() + shift;
  const auto x = random_floats(cols * n_tokens, 2, 1.0f);
  std::vector<float> y(static_cast<size_t>(rows * n_tokens));
  ThreadPool pool(threads);
  MatmulScratch scratch;
  WeightMatrix wm{t, w, cols, rows, row_size(t, cols)};
  wm.panels = panels;
  for (auto _ : state) {
    matmul(wm, x.data(), n_tokens, y.data(), rows, pool, scratch);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(rows * cols * n_tokens),
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.counters["tok/s"] =
      benchmark::Counter(static_cast<double>(n_tokens), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(simd::target_name()) + (panels ? " panels" : ""));
}

void prefill_reference(benchmark::State& state, GgmlType t) {
  const int64_t rows = state.range(0), cols = state.range(1), n_tokens = state.range(3);
  const size_t rb = row_size(t, cols);
  const std::vector<uint8_t> w = make_weights(t, rows, cols);
  const auto x = random_floats(cols * n_tokens, 2, 1.0f);
  const GgmlType xt = vec_dot_type(t);
  const size_t xrow = row_size(xt, cols);
  std::vector<uint8_t> xq(xrow * static_cast<size_t>(n_tokens));
  std::vector<float> y(static_cast<size_t>(rows * n_tokens));
  for (auto _ : state) {
    for (int64_t i = 0; i < n_tokens; ++i)
      quantize_row(xt, x.data() + i * cols, xq.data() + xrow * static_cast<size_t>(i), cols);
    for (int64_t i = 0; i < n_tokens; ++i) {
      for (int64_t r = 0; r < rows; ++r) {
        y[static_cast<size_t>(i * rows + r)] =
            vec_dot_ref(t, w.data() + rb * static_cast<size_t>(r), xq.data() + xrow * static_cast<size_t>(i), cols);
      }
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(rows * cols * n_tokens),
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("scalar reference");
}

// Reference point for the decode figures: summing 256 MiB of floats split across threads (the
// compiler vectorizes the loop), i.e. what streaming reads reach on this machine right now.
void stream_read(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  std::vector<float> data(kColdBytes / sizeof(float), 1.0f);
  ThreadPool pool(threads);
  const int64_t n = static_cast<int64_t>(data.size());
  std::vector<float> partial(static_cast<size_t>(threads) * 16);
  for (auto _ : state) {
    pool.parallel_for(threads, 1, [&](int64_t b, int64_t e, int) {
      for (int64_t part = b; part < e; ++part) {
        const float* p = data.data() + n * part / threads;
        const int64_t len = n * (part + 1) / threads - n * part / threads;
        float acc[16] = {};
        for (int64_t i = 0; i + 16 <= len; i += 16) {
          for (int j = 0; j < 16; ++j) acc[j] += p[i + j];
        }
        for (int j = 0; j < 16; ++j) partial[static_cast<size_t>(part) * 16 + static_cast<size_t>(j)] = acc[j];
      }
    });
    benchmark::DoNotOptimize(partial.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kColdBytes));
}
BENCHMARK(stream_read)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// Cost of one ThreadPool::parallel_for round trip with no work (paid by every matmul call).
void pool_round_trip(benchmark::State& state) {
  ThreadPool pool(static_cast<int>(state.range(0)));
  std::vector<int64_t> hits(64);
  for (auto _ : state) {
    pool.parallel_for(pool.size(), 1, [&](int64_t b, int64_t, int t) { hits[static_cast<size_t>(t)] += b; });
  }
  benchmark::DoNotOptimize(hits.data());
}
BENCHMARK(pool_round_trip)->Arg(1)->Arg(2)->UseRealTime();

#define POCKET_DECODE_BENCH(T)                                                                                         \
  BENCHMARK_CAPTURE(decode, T##_cold, GgmlType::T, true)->ArgsProduct({{2048, 6144}, {1536}, {1, 2}})->UseRealTime();  \
  BENCHMARK_CAPTURE(decode, T##_hot, GgmlType::T, false)->Args({2048, 1536, 1})->Args({2048, 1536, 2})->UseRealTime(); \
  BENCHMARK_CAPTURE(decode_reference, T, GgmlType::T)->Args({2048, 1536});

// E2B's tied output projection (vocab x hidden): the largest single read of a decode step, and a
// DRAM-bound product large enough that thread hand-offs do not matter.
#define POCKET_OUTPUT_BENCH(T)                             \
  BENCHMARK_CAPTURE(decode, T##_output, GgmlType::T, true) \
      ->Args({262144, 1536, 1})                            \
      ->Args({262144, 1536, 2})                            \
      ->UseRealTime()                                      \
      ->Unit(benchmark::kMillisecond);

// The same products on stored panels (how Q4_0 / Q8_0 weights sit in RAM after loading on AVX-512).
#define POCKET_PANELS_BENCH(T)                                                                            \
  BENCHMARK_CAPTURE(decode, T##_panels_cold, GgmlType::T, true, 1)                                        \
      ->ArgsProduct({{2048, 6144}, {1536}, {1, 2}})                                                       \
      ->UseRealTime();                                                                                    \
  BENCHMARK_CAPTURE(decode, T##_panels_hot, GgmlType::T, false, 1)->Args({2048, 1536, 1})->UseRealTime(); \
  BENCHMARK_CAPTURE(decode, T##_panels_output, GgmlType::T, true, 1)                                      \
      ->Args({262144, 1536, 2})                                                                           \
      ->UseRealTime()                                                                                     \
      ->Unit(benchmark::kMillisecond);                                                                    \
  BENCHMARK_CAPTURE(prefill, T##_panels, GgmlType::T, 1)                                                  \
      ->Args({2048, 1536, 1, 512})                                                                        \
      ->Args({2048, 1536, 2, 512})                                                                        \
      ->UseRealTime();

POCKET_DECODE_BENCH(Q4_0)
POCKET_OUTPUT_BENCH(Q4_0)
POCKET_PANELS_BENCH(Q4_0)
POCKET_DECODE_BENCH(Q8_0)
POCKET_OUTPUT_BENCH(Q8_0)
POCKET_PANELS_BENCH(Q8_0)
POCKET_DECODE_BENCH(Q4_K)
POCKET_OUTPUT_BENCH(Q4_K)
POCKET_DECODE_BENCH(Q6_K)
POCKET_OUTPUT_BENCH(Q6_K)
POCKET_DECODE_BENCH(F16)

#define POCKET_PREFILL_BENCH(T)              \
  BENCHMARK_CAPTURE(prefill, T, GgmlType::T) \
      ->Args({2048, 1536, 1, 512})           \
      ->Args({2048, 1536, 2, 512})           \
      ->Args({2048, 1536, 1, 16})            \
      ->UseRealTime();                       \
  BENCHMARK_CAPTURE(prefill_reference, T, GgmlType::T)->Args({2048, 1536, 1, 8})->Unit(benchmark::kMillisecond);

POCKET_PREFILL_BENCH(Q4_0)
// E2B's feed-forward shapes: gate / up (6144 x 1536) and down (1536 x 6144).
BENCHMARK_CAPTURE(prefill, Q4_0_ffn, GgmlType::Q4_0)
    ->Args({6144, 1536, 1, 512})
    ->Args({1536, 6144, 1, 512})
    ->Args({6144, 1536, 2, 512})
    ->Args({1536, 6144, 2, 512})
    ->UseRealTime();
POCKET_PREFILL_BENCH(Q8_0)
POCKET_PREFILL_BENCH(Q4_K)
POCKET_PREFILL_BENCH(Q6_K)
POCKET_PREFILL_BENCH(F16)

// f32 row operations of the forward pass: scalar ops:: vs SIMD simd::. Argument: row length.
template <bool kSimd>
void dot(benchmark::State& state) {
  const int64_t n = state.range(0);
  const auto a = random_floats(n, 3, 1.0f), b = random_floats(n, 4, 1.0f);
  for (auto _ : state)
    benchmark::DoNotOptimize(kSimd ? simd::dot_f32(a.data(), b.data(), n) : ops::dot_f32(a.data(), b.data(), n));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * n);
}
BENCHMARK(dot<false>)->Arg(256);
BENCHMARK(dot<true>)->Arg(256);

template <bool kSimd>
void geglu(benchmark::State& state) {
  const int64_t n = state.range(0);
  const auto g = random_floats(n, 5, 2.0f), u = random_floats(n, 6, 1.0f);
  std::vector<float> y(static_cast<size_t>(n));
  for (auto _ : state) {
    if (kSimd) {
      simd::geglu(g.data(), u.data(), n, y.data());
    } else {
      ops::geglu(g.data(), u.data(), n, y.data());
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * n);
}
BENCHMARK(geglu<false>)->Arg(6144);
BENCHMARK(geglu<true>)->Arg(6144);

// Attention of one E2B-shaped layer: 8 query heads sharing 1 KV head, a batch of n tokens at
// position pos0 over an f32 cache (random keys / values). Arguments: head_dim, global (0: sliding
// window 512), threads, pos0, n (512: prefill; 1: a decode step). GFLOP/s counts the 2·d multiply-adds of QKᵀ and PV
// per (query, key) pair the query reads.
void attention_layer(benchmark::State& state) {
  const int64_t d = state.range(0), n = state.range(4);
  const bool global = state.range(1) != 0;
  const int threads = static_cast<int>(state.range(2));
  const int64_t pos0 = state.range(3);
  Gemma4Config cfg;
  cfg.n_layer = 1;
  cfg.n_head = 8;
  cfg.sliding_window = 512;
  LayerConfig lc;
  lc.is_global = global;
  lc.head_dim = static_cast<int>(d);
  lc.n_kv_heads = 1;
  lc.kv_source = 0;
  cfg.layers.push_back(lc);
  KvCache cache(cfg, static_cast<int>(pos0 + n), static_cast<int>(n));
  constexpr int64_t kRows = 512;  // positions reuse 512 distinct random rows
  const auto kv = random_floats(2 * kRows * d, 5, 0.3f);
  for (int64_t t = 0; t < pos0 + n; ++t) {
    std::memcpy(cache.k(0, t), kv.data() + (t % kRows) * d, static_cast<size_t>(d) * sizeof(float));
    std::memcpy(cache.v(0, t), kv.data() + (kRows + t % kRows) * d, static_cast<size_t>(d) * sizeof(float));
  }
  const auto q = random_floats(n * cfg.n_head * d, 6, 0.3f);
  std::vector<float> out(q.size());
  ThreadPool pool(threads);
  ForwardScratch s;
  for (auto _ : state) {
    attention(cfg, 0, q.data(), n, pos0, cache, out.data(), pool, s);
    benchmark::DoNotOptimize(out.data());
  }
  double pairs = 0;
  for (int64_t t = pos0; t < pos0 + n; ++t)
    pairs += static_cast<double>(global ? t + 1 : std::min<int64_t>(t + 1, 512));
  pairs *= cfg.n_head;
  state.counters["GFLOP/s"] =
      benchmark::Counter(4.0 * pairs * static_cast<double>(d), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(simd::target_name());
}
BENCHMARK(attention_layer)
    ->Args({256, 0, 1, 0, 512})
    ->Args({512, 1, 1, 0, 512})
    ->Args({256, 0, 2, 0, 512})
    ->Args({256, 0, 1, 3584, 512})  // a later batch of a long prompt: full windows, ring wrapped
    ->Args({512, 1, 1, 3584, 512})  // 4K context
    ->Args({512, 1, 1, 16384, 512})
    ->Args({256, 0, 1, 4095, 1})  // decode steps at 4K context
    ->Args({512, 1, 1, 4095, 1})
    ->Args({256, 0, 2, 4095, 1})
    ->Args({512, 1, 2, 4095, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pocket

BENCHMARK_MAIN();
