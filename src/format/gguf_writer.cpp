// GGUF v3 writer. Metadata and tensor infos first, then each tensor's data at an aligned offset.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "format/gguf.h"

namespace pocket {
namespace {

class FileOut {
 public:
  explicit FileOut(const std::string& path) : f_(std::fopen(path.c_str(), "wb")) {}
  ~FileOut() {
    if (f_) std::fclose(f_);
  }
  FileOut(const FileOut&) = delete;
  FileOut& operator=(const FileOut&) = delete;
  bool ok() const { return f_ != nullptr && good_; }
  uint64_t pos() const { return pos_; }
  void bytes(const void* p, size_t n) {
    if (!f_ || !good_ || n == 0) return;
    good_ = std::fwrite(p, 1, n, f_) == n;
    pos_ += n;
  }
  template <class T>
  void pod(T v) {
    bytes(&v, sizeof(T));
  }
  void str(const std::string& s) {
    pod<uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  void pad_to(uint64_t alignment) {
    static const uint8_t zeros[64] = {};
    while (pos_ % alignment != 0) bytes(zeros, std::min<uint64_t>(alignment - pos_ % alignment, sizeof(zeros)));
  }
  bool close() {
    if (!f_) return false;
    good_ = (std::fclose(f_) == 0) && good_;
    f_ = nullptr;
    return good_;
  }

 private:
  std::FILE* f_;
  bool good_ = true;
  uint64_t pos_ = 0;
};

// Writes one scalar (already widened in `d`) narrowed to wire type t.
void write_scalar(FileOut& o, GgufValueType t, const GgufValue::Data& d) {
  auto u = [&] { return std::holds_alternative<uint64_t>(d) ? std::get<uint64_t>(d) : static_cast<uint64_t>(std::get<int64_t>(d)); };
  auto i = [&] { return std::holds_alternative<int64_t>(d) ? std::get<int64_t>(d) : static_cast<int64_t>(std::get<uint64_t>(d)); };
  switch (t) {
    case GgufValueType::UINT8: o.pod<uint8_t>(static_cast<uint8_t>(u())); break;
    case GgufValueType::UINT16: o.pod<uint16_t>(static_cast<uint16_t>(u())); break;
    case GgufValueType::UINT32: o.pod<uint32_t>(static_cast<uint32_t>(u())); break;
    case GgufValueType::UINT64: o.pod<uint64_t>(u()); break;
    case GgufValueType::INT8: o.pod<int8_t>(static_cast<int8_t>(i())); break;
    case GgufValueType::INT16: o.pod<int16_t>(static_cast<int16_t>(i())); break;
    case GgufValueType::INT32: o.pod<int32_t>(static_cast<int32_t>(i())); break;
    case GgufValueType::INT64: o.pod<int64_t>(i()); break;
    case GgufValueType::FLOAT32: o.pod<float>(static_cast<float>(std::get<double>(d))); break;
    case GgufValueType::FLOAT64: o.pod<double>(std::get<double>(d)); break;
    case GgufValueType::BOOL: o.pod<uint8_t>(std::get<bool>(d) ? 1 : 0); break;
    case GgufValueType::STRING: o.str(std::get<std::string>(d)); break;
    case GgufValueType::ARRAY: break;
  }
}

void write_value(FileOut& o, const GgufValue& v) {
  if (v.type != GgufValueType::ARRAY) {
    write_scalar(o, v.type, v.data);
    return;
  }
  o.pod<uint32_t>(static_cast<uint32_t>(v.elem_type));
  o.pod<uint64_t>(v.array_size());
  std::visit(
      [&](const auto& arr) {
        using D = std::decay_t<decltype(arr)>;
        if constexpr (std::is_same_v<D, std::vector<GgufValue>>) {
          for (const auto& e : arr) write_value(o, e);
        } else if constexpr (std::is_same_v<D, std::vector<uint8_t>>) {
          for (uint8_t b : arr) o.pod<uint8_t>(b ? 1 : 0);
        } else if constexpr (std::is_same_v<D, std::vector<uint64_t>> || std::is_same_v<D, std::vector<int64_t>> ||
                             std::is_same_v<D, std::vector<double>> || std::is_same_v<D, std::vector<std::string>>) {
          for (const auto& e : arr) write_scalar(o, v.elem_type, GgufValue::Data{e});
        }
      },
      v.data);
}

}  // namespace

void GgufWriter::set(std::string key, GgufValue value) {
  for (auto& [k, v] : kv_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  kv_.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne, std::vector<uint8_t> data) {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  const uint64_t bytes = row_size(type, n);
  tensors_.push_back({std::move(name), type, std::move(ne), bytes, std::move(data), nullptr});
}

void GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne, Filler filler) {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  const uint64_t bytes = row_size(type, n);
  tensors_.push_back({std::move(name), type, std::move(ne), bytes, {}, std::move(filler)});
}

Status GgufWriter::write(const std::string& path, const std::function<void(uint64_t, uint64_t)>& progress) const {
  for (const auto& t : tensors_) {
    if (!t.filler && t.data.size() != t.n_bytes) {
      return Error{path + ": tensor '" + t.name + "' has " + std::to_string(t.data.size()) + " bytes, expected " +
                   std::to_string(t.n_bytes)};
    }
  }
  const std::string tmp = path + ".partial";
  {
    FileOut o(tmp);
    if (!o.ok()) return Error{path + ": cannot create file"};
    o.pod<uint32_t>(0x46554747);
    o.pod<uint32_t>(3);
    o.pod<uint64_t>(tensors_.size());
    // general.alignment is written only when it differs from the default of 32.
    const bool write_alignment = alignment_ != 32;
    o.pod<uint64_t>(kv_.size() + (write_alignment ? 1 : 0));
    if (write_alignment) {
      o.str("general.alignment");
      o.pod<uint32_t>(static_cast<uint32_t>(GgufValueType::UINT32));
      o.pod<uint32_t>(alignment_);
    }
    for (const auto& [k, v] : kv_) {
      o.str(k);
      o.pod<uint32_t>(static_cast<uint32_t>(v.type));
      write_value(o, v);
    }
    uint64_t offset = 0, total = 0;
    for (const auto& t : tensors_) {
      o.str(t.name);
      o.pod<uint32_t>(static_cast<uint32_t>(t.ne.size()));
      for (int64_t d : t.ne) o.pod<uint64_t>(static_cast<uint64_t>(d));
      o.pod<uint32_t>(static_cast<uint32_t>(t.type));
      o.pod<uint64_t>(offset);
      offset += (t.n_bytes + alignment_ - 1) / alignment_ * alignment_;
      total += t.n_bytes;
    }
    o.pad_to(alignment_);
    uint64_t done = 0;
    std::vector<uint8_t> buf;
    for (const auto& t : tensors_) {
      if (t.filler) {
        buf.assign(t.n_bytes, 0);
        t.filler(buf);
        o.bytes(buf.data(), buf.size());
      } else {
        o.bytes(t.data.data(), t.data.size());
      }
      o.pad_to(alignment_);
      done += t.n_bytes;
      if (progress) progress(done, total);
      if (!o.ok()) break;
    }
    if (!o.close()) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return Error{path + ": write failed (disk full?)"};
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error{path + ": cannot move finished file into place: " + ec.message()};
  return {};
}

}  // namespace pocket
