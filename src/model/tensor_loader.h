// Name-and-shape lookup of the tensors of one GGUF file, shared by the text model loader
// (gemma4_weights.cpp) and the mmproj vision and audio towers (media/mmproj.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "format/gguf.h"
#include "kernels/matmul.h"

namespace pocket {

// A ggml shape for error messages: {2048, 262144} (ne[0] first).
std::string shape_str(const std::vector<int64_t>& ne);

// Resolves tensors by name and checks their shapes (ggml order, ne[0] fastest) and types.
// The first problem is kept (the error names the file, the tensor, the expected and actual shape);
// later calls then return empty results, so a loader can request everything and check once.
class TensorLoader {
 public:
  // `kind` names the tensors in errors: "missing <kind> 'a.blk.0.attn_q.weight' ...".
  explicit TensorLoader(const GgufFile& f, std::string kind = "tensor") : f_(f), kind_(std::move(kind)) {}
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  Status status() const;

  // The tensor with exactly shape `ne`; nullptr (and, if required, an error) when absent.
  const GgufTensorInfo* get(const std::string& name, const std::vector<int64_t>& ne, bool required = true);
  // A 2-D weight {cols, rows} (any weight type) usable with matmul(). Empty when absent and optional.
  WeightMatrix matrix(const std::string& name, int64_t cols, int64_t rows, bool required = true);
  // A weight whose ne has more than two dimensions, viewed as a matrix of `rows` rows of
  // product(ne[0..]) / rows values (e.g. the conv-layout patch embedding [16,16,3,d] as {768, d}).
  WeightMatrix matrix_nd(const std::string& name, const std::vector<int64_t>& ne, int64_t rows, bool required = true);
  // Any tensor of shape `ne`, dequantized to f32 in storage order (norm weights, tables, conv kernels).
  std::vector<float> floats(const std::string& name, const std::vector<int64_t>& ne, bool required = true);
  std::vector<float> vec(const std::string& name, int64_t n, bool required = true) {
    return floats(name, {n}, required);
  }
  // A one-element tensor of shape {1} (clip scalars, out_scale); `fallback` when absent.
  float scalar(const std::string& name, float fallback);

  // Records `msg` unless a problem is already recorded (for checks of the calling loader).
  void fail(std::string msg);
  const GgufFile& file() const { return f_; }

 private:
  const GgufFile& f_;
  std::string kind_;
  std::string error_;
};

}  // namespace pocket
