// GGUF v3 model files as llama.cpp writes them: metadata values, tensor infos, reader and writer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/result.h"
#include "tensor/ggml_type.h"

namespace pocket {

enum class GgufValueType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};

std::string_view gguf_type_name(GgufValueType t);

// One metadata value. Scalars are widened (unsigned→uint64, signed→int64, float→double) and the
// original wire type is kept in `type` (and `elem_type` for arrays) so a round trip is exact.
// Arrays of scalars are stored compactly; arrays of arrays hold GgufValues.
struct GgufValue {
  using Data = std::variant<std::monostate, uint64_t, int64_t, double, bool, std::string,
                            std::vector<uint64_t>, std::vector<int64_t>, std::vector<double>,
                            std::vector<uint8_t> /*bools*/, std::vector<std::string>,
                            std::vector<GgufValue>>;
  GgufValueType type = GgufValueType::UINT8;
  GgufValueType elem_type = GgufValueType::UINT8;  // arrays only
  Data data;

  static GgufValue u32(uint32_t v) { return {GgufValueType::UINT32, {}, uint64_t{v}}; }
  static GgufValue i32(int32_t v) { return {GgufValueType::INT32, {}, int64_t{v}}; }
  static GgufValue f32(float v) { return {GgufValueType::FLOAT32, {}, double{v}}; }
  static GgufValue boolean(bool v) { return {GgufValueType::BOOL, {}, v}; }
  static GgufValue str(std::string v) { return {GgufValueType::STRING, {}, std::move(v)}; }
  static GgufValue u32_array(const std::vector<uint32_t>& v);
  static GgufValue i32_array(const std::vector<int32_t>& v);
  static GgufValue f32_array(const std::vector<float>& v);
  static GgufValue bool_array(const std::vector<bool>& v);
  static GgufValue str_array(std::vector<std::string> v);

  bool is_array() const { return type == GgufValueType::ARRAY; }
  size_t array_size() const;

  // Typed views; nullopt when the value has another type.
  std::optional<uint64_t> as_uint() const;  // any unsigned or non-negative signed integer
  std::optional<int64_t> as_int() const;    // any integer that fits
  std::optional<double> as_float() const;   // floats, and integers
  std::optional<bool> as_bool() const;
  const std::string* as_string() const;
  // Arrays of integers (any width) as int64; of floats as double; of strings; of bools.
  std::optional<std::vector<int64_t>> as_int_array() const;
  std::optional<std::vector<double>> as_float_array() const;
  const std::vector<std::string>* as_string_array() const;
  std::optional<std::vector<bool>> as_bool_array() const;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> ne;  // ggml order: ne[0] is the contiguous dimension
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;      // from the start of the data section
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // points into the mapped file

  int64_t n_elements() const;
  int64_t n_rows() const;  // product of ne[1..]
};

// A parsed, validated GGUF file. Tensor data stays in the (read-only, shared) file mapping.
class GgufFile {
 public:
  GgufFile();
  ~GgufFile();
  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  // Maps and validates a file. Errors name the file and the offending key or tensor.
  static Result<GgufFile> open(const std::string& path);
  // Parses bytes that the caller keeps alive (used by the fuzzer and tests); `label` names them.
  static Result<GgufFile> parse(std::span<const uint8_t> bytes, std::string label);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  std::span<const uint8_t> bytes() const { return bytes_; }

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;

  // Convenience lookups for the model loader: error text names the key and the file.
  Result<uint64_t> get_uint(std::string_view key) const;
  Result<double> get_float(std::string_view key) const;
  Result<std::string> get_string(std::string_view key) const;

  // Asks the kernel to read ahead / drop the mapping's pages (advisory).
  void advise_willneed(const GgufTensorInfo& t) const;

 private:
  struct Mapping;
  std::unique_ptr<Mapping> mapping_;
  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::span<const uint8_t> bytes_;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

// Writes GGUF v3. Tensor data may be supplied up front or produced on demand while writing
// (so multi-gigabyte synthetic models never sit in memory whole).
class GgufWriter {
 public:
  // Fills `out` (exactly row_size bytes of the tensor) with the tensor's encoded data.
  using Filler = std::function<void(std::span<uint8_t> out)>;

  void set(std::string key, GgufValue value);
  void add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne, std::vector<uint8_t> data);
  void add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne, Filler filler);
  void set_alignment(uint32_t alignment) { alignment_ = alignment; }

  // Writes to `path` via a temporary file renamed into place (never leaves a half-written file).
  // `progress(done_bytes, total_bytes)` is called after each tensor when given.
  Status write(const std::string& path,
               const std::function<void(uint64_t, uint64_t)>& progress = nullptr) const;

 private:
  struct PendingTensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    uint64_t n_bytes;
    std::vector<uint8_t> data;
    Filler filler;
  };
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<PendingTensor> tensors_;
  uint32_t alignment_ = 32;
};

}  // namespace pocket
