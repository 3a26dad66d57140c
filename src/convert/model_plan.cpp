// Writing a ModelPlan: per-tensor conversion through f32 with the reference quantizers, atomically.
#include "convert/model_plan.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <filesystem>
#include <thread>

#include "tensor/quants.h"
#include "tensor/quants_weighted.h"

namespace pocket::convert {

int64_t PlanTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

void ModelPlan::set(const std::string& key, GgufValue v) {
  for (auto& [k, old] : kv) {
    if (k == key) {
      old = std::move(v);
      return;
    }
  }
  kv.emplace_back(key, std::move(v));
}

void ModelPlan::set_last(const std::string& key, GgufValue v) {
  std::erase_if(kv, [&](const auto& e) { return e.first == key; });
  kv.emplace_back(key, std::move(v));
}

const GgufValue* ModelPlan::find(const std::string& key) const {
  for (const auto& [k, v] : kv) {
    if (k == key) return &v;
  }
  return nullptr;
}

PlanTensor owned_tensor(std::string name, std::vector<int64_t> ne, GgmlType type, std::vector<uint8_t> data) {
  PlanTensor t;
  t.origin = "generated " + name;
  t.name = std::move(name);
  t.ne = std::move(ne);
  t.src_type = t.type = type;
  auto buf = std::make_shared<const std::vector<uint8_t>>(std::move(data));
  t.src = buf->data();
  t.owned = std::move(buf);
  return t;
}

void convert_rows(GgmlType from, const uint8_t* src, GgmlType to, uint8_t* dst, int64_t ne0, int64_t n_rows) {
  convert_rows(from, src, to, dst, ne0, n_rows, nullptr);
}

void convert_rows(GgmlType from, const uint8_t* src, GgmlType to, uint8_t* dst, int64_t ne0, int64_t n_rows,
                  const float* weights) {
  const size_t in_row = row_size(from, ne0), out_row = row_size(to, ne0);
  if (from == to) {
    std::memcpy(dst, src, in_row * static_cast<size_t>(n_rows));
    return;
  }
  std::vector<uint8_t> aligned(in_row);
  std::vector<float> f(static_cast<size_t>(ne0));
  for (int64_t r = 0; r < n_rows; ++r) {
    std::memcpy(aligned.data(), src + static_cast<size_t>(r) * in_row, in_row);
    dequantize_row(from, aligned.data(), f.data(), ne0);
    quantize_row_weighted(to, f.data(), dst + static_cast<size_t>(r) * out_row, ne0, weights);
  }
}

Status validate_plan(const ModelPlan& plan) {
  for (const auto& t : plan.tensors) {
    if (t.ne.empty() || t.ne.size() > 4) {
      return Error{t.origin + ": " + std::to_string(t.ne.size()) + " dimensions (GGUF allows 1 to 4)"};
    }
    for (int64_t d : t.ne) {
      if (d <= 0) return Error{t.origin + ": empty dimension"};
    }
    for (GgmlType ty : {t.src_type, t.type}) {
      if (!traits(ty).is_weight_type) {
        return Error{t.origin + ": type " + std::string(traits(ty).name) + " cannot be stored in a model file"};
      }
      if (t.ne[0] % traits(ty).block_size != 0) {
        return Error{t.origin + ": rows of " + std::to_string(t.ne[0]) + " values do not fit " +
                     std::string(traits(ty).name) + " blocks of " + std::to_string(traits(ty).block_size)};
      }
    }
    if (t.src == nullptr) return Error{t.origin + ": no data"};
    if (t.importance) {
      const int64_t n_mat = t.ne.size() > 2 ? t.ne[2] : 1;
      if (t.ne.size() > 3 || static_cast<int64_t>(t.importance->size()) != t.ne[0] * n_mat) {
        return Error{t.origin + ": importance weights do not match the tensor's shape"};
      }
    }
  }
  return {};
}

Status write_plan(const ModelPlan& plan, const std::string& path, int threads, const Progress& progress) {
  if (Status st = validate_plan(plan); !st.ok()) return st;
  if (threads <= 0) threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  GgufWriter w;
  w.set_alignment(plan.alignment);
  for (const auto& [k, v] : plan.kv) w.set(k, v);
  for (const auto& t : plan.tensors) {
    const PlanTensor* tp = &t;
    w.add_tensor(t.name, t.type, t.ne, [tp, threads](std::span<uint8_t> out) {
      const int64_t ne0 = tp->ne[0], rows = tp->n_elements() / ne0;
      const size_t in_row = row_size(tp->src_type, ne0), out_row = row_size(tp->type, ne0);
      // Same-type copies are memory bound; conversions get the threads (at least 64 rows each).
      const int64_t n_threads =
          tp->src_type == tp->type ? 1 : std::clamp<int64_t>(rows / 64, 1, static_cast<int64_t>(threads));
      const int64_t per = (rows + n_threads - 1) / n_threads;
      // With importance weights, rows go matrix by matrix (expert k of a 3-D tensor uses weights row k).
      const int64_t rows_per_matrix = tp->ne.size() > 1 ? tp->ne[1] : 1;
      auto work = [&](int64_t r0) {
        const int64_t end = std::min(r0 + per, rows);
        for (int64_t r = r0; r < end;) {
          const int64_t k = r / rows_per_matrix;
          const int64_t n = tp->importance ? std::min(end, (k + 1) * rows_per_matrix) - r : end - r;
          const float* qw = tp->importance ? tp->importance->data() + k * ne0 : nullptr;
          convert_rows(tp->src_type, tp->src + static_cast<size_t>(r) * in_row, tp->type,
                       out.data() + static_cast<size_t>(r) * out_row, ne0, n, qw);
          r += n;
        }
      };
      std::vector<std::thread> pool;
      for (int64_t i = 1; i < n_threads; ++i) pool.emplace_back(work, i * per);
      work(0);
      for (auto& th : pool) th.join();
      // Done with the input: drop its pages from this process (they stay in the page cache), so the
      // resident set does not grow to the size of the model while converting it.
      if (tp->mapped) {
        const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
        const uintptr_t begin = reinterpret_cast<uintptr_t>(tp->src) / page * page;
        const uintptr_t end = reinterpret_cast<uintptr_t>(tp->src) + in_row * static_cast<size_t>(rows);
        madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
      }
    });
  }
  try {
    return w.write(path, progress);
  } catch (const std::exception& e) {
    std::error_code ec;
    std::filesystem::remove(path + ".partial", ec);
    return Error{path + ": " + e.what()};
  }
}

}  // namespace pocket::convert
