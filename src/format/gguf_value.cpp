// GgufValue constructors and typed accessors.
#include <limits>

#include "format/gguf.h"

namespace pocket {

std::string_view gguf_type_name(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: return "u8";
    case GgufValueType::INT8: return "i8";
    case GgufValueType::UINT16: return "u16";
    case GgufValueType::INT16: return "i16";
    case GgufValueType::UINT32: return "u32";
    case GgufValueType::INT32: return "i32";
    case GgufValueType::FLOAT32: return "f32";
    case GgufValueType::BOOL: return "bool";
    case GgufValueType::STRING: return "string";
    case GgufValueType::ARRAY: return "array";
    case GgufValueType::UINT64: return "u64";
    case GgufValueType::INT64: return "i64";
    case GgufValueType::FLOAT64: return "f64";
  }
  return "unknown";
}

GgufValue GgufValue::u32_array(const std::vector<uint32_t>& v) {
  return {GgufValueType::ARRAY, GgufValueType::UINT32, std::vector<uint64_t>(v.begin(), v.end())};
}
GgufValue GgufValue::i32_array(const std::vector<int32_t>& v) {
  return {GgufValueType::ARRAY, GgufValueType::INT32, std::vector<int64_t>(v.begin(), v.end())};
}
GgufValue GgufValue::f32_array(const std::vector<float>& v) {
  return {GgufValueType::ARRAY, GgufValueType::FLOAT32, std::vector<double>(v.begin(), v.end())};
}
GgufValue GgufValue::bool_array(const std::vector<bool>& v) {
  std::vector<uint8_t> b(v.size());
  for (size_t i = 0; i < v.size(); ++i) b[i] = v[i] ? 1 : 0;
  return {GgufValueType::ARRAY, GgufValueType::BOOL, std::move(b)};
}
GgufValue GgufValue::str_array(std::vector<std::string> v) {
  return {GgufValueType::ARRAY, GgufValueType::STRING, std::move(v)};
}

size_t GgufValue::array_size() const {
  return std::visit(
      [](const auto& d) -> size_t {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, std::vector<uint64_t>> || std::is_same_v<D, std::vector<int64_t>> ||
                      std::is_same_v<D, std::vector<double>> || std::is_same_v<D, std::vector<uint8_t>> ||
                      std::is_same_v<D, std::vector<std::string>> || std::is_same_v<D, std::vector<GgufValue>>) {
          return d.size();
        } else {
          return 0;
        }
      },
      data);
}

std::optional<uint64_t> GgufValue::as_uint() const {
  if (const auto* u = std::get_if<uint64_t>(&data)) return *u;
  if (const auto* i = std::get_if<int64_t>(&data); i && *i >= 0) return static_cast<uint64_t>(*i);
  return std::nullopt;
}

std::optional<int64_t> GgufValue::as_int() const {
  if (const auto* i = std::get_if<int64_t>(&data)) return *i;
  if (const auto* u = std::get_if<uint64_t>(&data);
      u && *u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return static_cast<int64_t>(*u);
  }
  return std::nullopt;
}

std::optional<double> GgufValue::as_float() const {
  if (const auto* f = std::get_if<double>(&data)) return *f;
  if (const auto* i = std::get_if<int64_t>(&data)) return static_cast<double>(*i);
  if (const auto* u = std::get_if<uint64_t>(&data)) return static_cast<double>(*u);
  return std::nullopt;
}

std::optional<bool> GgufValue::as_bool() const {
  if (const auto* b = std::get_if<bool>(&data)) return *b;
  return std::nullopt;
}

const std::string* GgufValue::as_string() const { return std::get_if<std::string>(&data); }

std::optional<std::vector<int64_t>> GgufValue::as_int_array() const {
  if (const auto* i = std::get_if<std::vector<int64_t>>(&data)) return *i;
  if (const auto* u = std::get_if<std::vector<uint64_t>>(&data)) {
    std::vector<int64_t> out;
    out.reserve(u->size());
    for (uint64_t x : *u) {
      if (x > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      out.push_back(static_cast<int64_t>(x));
    }
    return out;
  }
  return std::nullopt;
}

std::optional<std::vector<double>> GgufValue::as_float_array() const {
  if (const auto* f = std::get_if<std::vector<double>>(&data)) return *f;
  return std::nullopt;
}

const std::vector<std::string>* GgufValue::as_string_array() const {
  return std::get_if<std::vector<std::string>>(&data);
}

std::optional<std::vector<bool>> GgufValue::as_bool_array() const {
  if (const auto* b = std::get_if<std::vector<uint8_t>>(&data)) {
    return std::vector<bool>(b->begin(), b->end());
  }
  return std::nullopt;
}

}  // namespace pocket
