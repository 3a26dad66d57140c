#include "model/tensor_loader.h"

#include <cmath>

#include "tensor/quants.h"

namespace pocket {

std::string shape_str(const std::vector<int64_t>& ne) {
  std::string s = "{";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "}";
}

Status TensorLoader::status() const {
  if (failed()) return Error{error_};
  return {};
}

void TensorLoader::fail(std::string msg) {
  if (!failed()) error_ = std::move(msg);
}

const GgufTensorInfo* TensorLoader::get(const std::string& name, const std::vector<int64_t>& ne, bool required) {
  if (failed()) return nullptr;
  const GgufTensorInfo* t = f_.find_tensor(name);
  if (!t) {
    if (required) fail(f_.path() + ": missing " + kind_ + " '" + name + "' (expected shape " + shape_str(ne) + ")");
    return nullptr;
  }
  if (t->ne != ne) {
    fail(f_.path() + ": " + kind_ + " '" + name + "' has shape " + shape_str(t->ne) + ", expected " + shape_str(ne));
    return nullptr;
  }
  if (!traits(t->type).is_weight_type) {
    fail(f_.path() + ": " + kind_ + " '" + name + "' has type " + std::string(traits(t->type).name) +
         ", which is not a weight type");
    return nullptr;
  }
  return t;
}

WeightMatrix TensorLoader::matrix(const std::string& name, int64_t cols, int64_t rows, bool required) {
  const GgufTensorInfo* t = get(name, {cols, rows}, required);
  if (!t) return {};
  return {t->type, t->data, cols, rows, row_size(t->type, cols)};
}

WeightMatrix TensorLoader::matrix_nd(const std::string& name, const std::vector<int64_t>& ne, int64_t rows,
                                     bool required) {
  const GgufTensorInfo* t = get(name, ne, required);
  if (!t) return {};
  const int64_t cols = t->n_elements() / rows;
  if (cols * rows != t->n_elements() || cols % traits(t->type).block_size != 0) {
    fail(f_.path() + ": " + kind_ + " '" + name + "' cannot be viewed as " + std::to_string(rows) + " rows");
    return {};
  }
  return {t->type, t->data, cols, rows, row_size(t->type, cols)};
}

std::vector<float> TensorLoader::floats(const std::string& name, const std::vector<int64_t>& ne, bool required) {
  const GgufTensorInfo* t = get(name, ne, required);
  if (!t) return {};
  std::vector<float> out(static_cast<size_t>(t->n_elements()));
  // Rows of ne[0] values (quantized types are blocked along ne[0]).
  const int64_t cols = ne.empty() ? 1 : ne[0];
  const size_t rb = row_size(t->type, cols);
  for (int64_t r = 0; r < t->n_rows(); ++r) dequantize_row(t->type, t->data + r * rb, out.data() + r * cols, cols);
  return out;
}

float TensorLoader::scalar(const std::string& name, float fallback) {
  std::vector<float> v = floats(name, {1}, /*required=*/false);
  if (v.empty()) return fallback;
  if (std::isnan(v[0])) {
    fail(f_.path() + ": " + kind_ + " '" + name + "' is NaN");
    return fallback;
  }
  return v[0];
}

}  // namespace pocket
