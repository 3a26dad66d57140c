// Hugging Face safetensors checkpoints: a memory-mapped, validated reader for one file or a whole
// (possibly sharded) checkpoint directory, and a small writer (used by tests to build checkpoints).
//
// File layout: u64 little-endian header length N, N bytes of JSON ({"name": {"dtype", "shape",
// "data_offsets": [begin, end]}, ..., optional "__metadata__": {str: str}}), then the data buffer.
// Offsets are relative to the data buffer. As the reference implementation does, the reader requires
// the tensors to cover the buffer exactly (no holes, no overlaps, no trailing bytes) and every byte
// range to match dtype size × element count, so a truncated or corrupt shard is an error that names
// the file and the tensor.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "tensor/ggml_type.h"

namespace pocket {

struct SafetensorsTensor {
  std::string name;
  std::string dtype;           // as written in the header: "BF16", "F32", "I64", ...
  std::vector<int64_t> shape;  // row-major, outermost dimension first (PyTorch order)
  const uint8_t* data = nullptr;
  uint64_t n_bytes = 0;
  std::string file;  // path of the file holding it (for error messages)

  int64_t n_elements() const;
  // The ggml type with the same byte layout: F32, F16, BF16; nullopt for every other dtype.
  std::optional<GgmlType> ggml_type() const;
  // ggml `ne` (innermost first): the shape reversed. {} for a scalar.
  std::vector<int64_t> ggml_ne() const;
};

// Bytes per element of a safetensors dtype name; 0 for names the format does not define (or sub-byte
// types such as F4, which the reader rejects).
size_t safetensors_dtype_size(std::string_view dtype);

// One mapped .safetensors file. Tensors are listed sorted by name (as the safetensors library and
// llama.cpp's converter iterate them).
class SafetensorsFile {
 public:
  SafetensorsFile();
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  static Result<SafetensorsFile> open(const std::string& path);
  // Parses bytes the caller keeps alive; `label` names them in errors.
  static Result<SafetensorsFile> parse(std::span<const uint8_t> bytes, std::string label);

  const std::string& path() const { return path_; }
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  struct Mapping;
  std::unique_ptr<Mapping> mapping_;
  std::string path_;
  std::vector<SafetensorsTensor> tensors_;
  std::unordered_map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// All weights of a checkpoint directory: `model.safetensors.index.json` (its weight_map must agree
// with the shards exactly), or else every `model*.safetensors` file. tensors() is in llama.cpp's
// converter order: shards sorted by file name, tensors sorted by name within a shard.
class SafetensorsCheckpoint {
 public:
  static Result<SafetensorsCheckpoint> open_dir(const std::string& dir);

  const std::vector<std::string>& files() const { return files_; }
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(std::string_view name) const;

 private:
  std::vector<std::string> files_;
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::vector<SafetensorsTensor> tensors_;
  std::unordered_map<std::string, size_t> index_;
};

// A tensor to write: `data` holds exactly n_elements × dtype size bytes.
struct SafetensorsWriteTensor {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

// Writes a .safetensors file (tensors in the given order in the data buffer, header padded with
// spaces to a multiple of 8 bytes, as the reference writer does), via a temporary file.
Status write_safetensors(const std::string& path, const std::vector<SafetensorsWriteTensor>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

}  // namespace pocket
