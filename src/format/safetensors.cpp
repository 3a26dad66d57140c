// safetensors reader (mmap + full header validation), checkpoint directories, and the test writer.
#include "format/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace pocket {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// The reference implementation refuses headers above 100 MB.
constexpr uint64_t kMaxHeader = 100'000'000;
constexpr int kMaxDims = 8;

struct DtypeInfo {
  std::string_view name;
  size_t size;
};
constexpr DtypeInfo kDtypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1},
    {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},     {"U32", 4},
    {"F32", 4},  {"F64", 8}, {"I64", 8}, {"U64", 8},     {"C64", 8},
};

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

size_t safetensors_dtype_size(std::string_view dtype) {
  for (const auto& d : kDtypes) {
    if (d.name == dtype) return d.size;
  }
  return 0;
}

int64_t SafetensorsTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::optional<GgmlType> SafetensorsTensor::ggml_type() const {
  if (dtype == "F32") return GgmlType::F32;
  if (dtype == "F16") return GgmlType::F16;
  if (dtype == "BF16") return GgmlType::BF16;
  return std::nullopt;
}

std::vector<int64_t> SafetensorsTensor::ggml_ne() const { return {shape.rbegin(), shape.rend()}; }

struct SafetensorsFile::Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr) munmap(addr, size);
  }
};

SafetensorsFile::SafetensorsFile() = default;
SafetensorsFile::~SafetensorsFile() = default;
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{path + ": cannot open: " + std::strerror(errno)};
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{path + ": not a regular file"};
  }
  auto mapping = std::make_unique<Mapping>();
  mapping->size = static_cast<size_t>(st.st_size);
  if (mapping->size > 0) {
    mapping->addr = mmap(nullptr, mapping->size, PROT_READ, MAP_SHARED, fd, 0);
    if (mapping->addr == MAP_FAILED) {
      mapping->addr = nullptr;
      const std::string msg = std::strerror(errno);
      ::close(fd);
      return Error{path + ": mmap failed: " + msg};
    }
  }
  ::close(fd);
  auto parsed = parse({static_cast<const uint8_t*>(mapping->addr), mapping->size}, path);
  if (!parsed) return parsed.error();
  parsed->mapping_ = std::move(mapping);
  return std::move(parsed).value();
}

Result<SafetensorsFile> SafetensorsFile::parse(std::span<const uint8_t> bytes, std::string label) {
  SafetensorsFile f;
  f.path_ = std::move(label);
  const std::string& p = f.path_;
  auto fail = [&](const std::string& msg) { return Error{p + ": " + msg}; };

  if (bytes.size() < 8) {
    return fail("file too small to be a safetensors file (" + std::to_string(bytes.size()) + " bytes)");
  }
  uint64_t n_header = 0;
  std::memcpy(&n_header, bytes.data(), 8);
  if (n_header > kMaxHeader)
    return fail("header length " + std::to_string(n_header) + " is implausible (corrupt file?)");
  if (n_header > bytes.size() - 8) {
    return fail("truncated: the header needs " + std::to_string(n_header) + " bytes but the file has only " +
                std::to_string(bytes.size() - 8) + " after the length");
  }
  const char* hdr = reinterpret_cast<const char*>(bytes.data() + 8);
  if (n_header < 2 || hdr[0] != '{') return fail("header is not a JSON object");
  json j = json::parse(hdr, hdr + n_header, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return fail("header is not valid JSON");

  const uint8_t* data = bytes.data() + 8 + n_header;
  const uint64_t data_size = bytes.size() - 8 - n_header;
  struct Range {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Range> ranges;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) return fail("__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) return fail("__metadata__ value '" + m.key() + "' is not a string");
        f.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    auto tfail = [&](const std::string& msg) { return fail("tensor '" + name + "': " + msg); };
    if (!v.is_object()) return tfail("entry is not an object");
    if (!v.contains("dtype") || !v["dtype"].is_string()) return tfail("missing \"dtype\"");
    if (!v.contains("shape") || !v["shape"].is_array()) return tfail("missing \"shape\"");
    if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2) {
      return tfail("missing \"data_offsets\" [begin, end]");
    }
    SafetensorsTensor t;
    t.name = name;
    t.file = p;
    t.dtype = v["dtype"].get<std::string>();
    const size_t esize = safetensors_dtype_size(t.dtype);
    if (esize == 0) return tfail("unknown or unsupported dtype '" + t.dtype + "'");
    if (v["shape"].size() > kMaxDims) return tfail("too many dimensions (" + std::to_string(v["shape"].size()) + ")");
    uint64_t n = 1;
    for (const json& d : v["shape"]) {
      if (!d.is_number_unsigned() && !(d.is_number_integer() && d.get<int64_t>() >= 0)) {
        return tfail("shape entries must be non-negative integers");
      }
      const uint64_t dim = d.get<uint64_t>();
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          (dim != 0 && n > std::numeric_limits<uint64_t>::max() / dim / esize)) {
        return tfail("shape is too large");
      }
      n *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    const json& off = v["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned()) {
      return tfail("data_offsets must be non-negative integers");
    }
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (end < begin) return tfail("data_offsets end before they begin");
    if (end - begin != n * esize) {
      return tfail("data_offsets span " + std::to_string(end - begin) + " bytes but " + t.dtype + " " +
                   shape_str(t.shape) + " needs " + std::to_string(n * esize));
    }
    if (end > data_size) {
      return tfail("truncated file: data ends at byte " + std::to_string(end) + " of the data buffer, which has only " +
                   std::to_string(data_size) + " bytes");
    }
    t.data = data + begin;
    t.n_bytes = end - begin;
    ranges.push_back({begin, end, f.tensors_.size()});
    f.tensors_.push_back(std::move(t));
  }
  // The tensors must tile the data buffer exactly.
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  uint64_t pos = 0;
  for (const Range& r : ranges) {
    if (r.begin != pos) {
      return fail("tensor '" + f.tensors_[r.index].name + "': data_offsets " +
                  (r.begin < pos ? "overlap another tensor" : "leave a gap in the data buffer") + " (begin " +
                  std::to_string(r.begin) + ", expected " + std::to_string(pos) + ")");
    }
    pos = r.end;
  }
  if (pos != data_size) {
    return fail("data buffer has " + std::to_string(data_size) + " bytes but the tensors cover " + std::to_string(pos) +
                " (trailing garbage?)");
  }
  std::sort(f.tensors_.begin(), f.tensors_.end(),
            [](const SafetensorsTensor& a, const SafetensorsTensor& b) { return a.name < b.name; });
  for (size_t i = 0; i < f.tensors_.size(); ++i) f.index_[f.tensors_[i].name] = i;
  return f;
}

// ---------------------------------------------------------------------------------------------

const SafetensorsTensor* SafetensorsCheckpoint::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Result<SafetensorsCheckpoint> SafetensorsCheckpoint::open_dir(const std::string& dir) {
  SafetensorsCheckpoint c;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error{dir + ": not a directory"};
  const fs::path root(dir);
  const fs::path index_path = root / "model.safetensors.index.json";
  std::map<std::string, std::string> weight_map;  // tensor → shard file name
  std::vector<std::string> names;
  if (fs::exists(index_path, ec)) {
    const std::string ip = index_path.string();
    std::ifstream in(ip, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    json j = json::parse(ss.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Error{ip + ": not valid JSON"};
    if (!j.contains("weight_map") || !j["weight_map"].is_object()) return Error{ip + ": missing \"weight_map\" object"};
    std::set<std::string> files;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!it.value().is_string()) return Error{ip + ": weight_map entry '" + it.key() + "' is not a file name"};
      const std::string file = it.value().get<std::string>();
      const fs::path fp(file);
      if (file.empty() || fp.is_absolute() || fp.filename().string() != file) {
        return Error{ip + ": weight_map entry '" + it.key() + "' names '" + file + "', not a file in the directory"};
      }
      weight_map[it.key()] = file;
      files.insert(file);
    }
    names.assign(files.begin(), files.end());  // sorted
  } else {
    for (const auto& e : fs::directory_iterator(root, ec)) {
      const std::string n = e.path().filename().string();
      if (n.rfind("model", 0) == 0 && n.size() > 12 && n.compare(n.size() - 12, 12, ".safetensors") == 0) {
        names.push_back(n);
      }
    }
    std::sort(names.begin(), names.end());
    if (names.empty()) return Error{dir + ": no model*.safetensors files and no model.safetensors.index.json"};
  }
  for (const auto& n : names) {
    const std::string path = (root / n).string();
    if (!fs::exists(path, ec)) {
      return Error{path + ": missing shard (listed in model.safetensors.index.json)"};
    }
    auto f = SafetensorsFile::open(path);
    if (!f) return f.error();
    auto shard = std::make_unique<SafetensorsFile>(std::move(f).value());
    for (const auto& t : shard->tensors()) {
      if (c.index_.count(t.name)) {
        return Error{path + ": tensor '" + t.name + "' also appears in " + c.tensors_[c.index_[t.name]].file};
      }
      if (!weight_map.empty()) {
        auto it = weight_map.find(t.name);
        if (it == weight_map.end()) {
          return Error{path + ": tensor '" + t.name + "' is not listed in model.safetensors.index.json"};
        }
        if (it->second != n) {
          return Error{path + ": tensor '" + t.name + "' is listed under " + it->second +
                       " in model.safetensors.index.json"};
        }
      }
      c.index_[t.name] = c.tensors_.size();
      c.tensors_.push_back(t);
    }
    c.files_.push_back(path);
    c.shards_.push_back(std::move(shard));
  }
  for (const auto& [name, file] : weight_map) {
    if (!c.index_.count(name)) {
      return Error{(root / file).string() + ": tensor '" + name +
                   "' (listed in model.safetensors.index.json) is missing from the shard"};
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------

Status write_safetensors(const std::string& path, const std::vector<SafetensorsWriteTensor>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  json h = json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  uint64_t off = 0;
  for (const auto& t : tensors) {
    const size_t esize = safetensors_dtype_size(t.dtype);
    if (esize == 0) return Error{path + ": tensor '" + t.name + "': unknown dtype '" + t.dtype + "'"};
    uint64_t n = 1;
    for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
    if (n * esize != t.data.size()) {
      return Error{path + ": tensor '" + t.name + "' has " + std::to_string(t.data.size()) + " bytes, expected " +
                   std::to_string(n * esize)};
    }
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {off, off + t.data.size()}}};
    off += t.data.size();
  }
  std::string header = h.dump();
  while (header.size() % 8 != 0) header += ' ';
  const std::string tmp = path + ".partial";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Error{path + ": cannot create file"};
  const uint64_t n = header.size();
  bool ok = std::fwrite(&n, 8, 1, f) == 1 && std::fwrite(header.data(), 1, header.size(), f) == header.size();
  for (const auto& t : tensors) {
    if (!ok) break;
    ok = t.data.empty() || std::fwrite(t.data.data(), 1, t.data.size(), f) == t.data.size();
  }
  ok = (std::fclose(f) == 0) && ok;
  std::error_code ec;
  if (!ok) {
    fs::remove(tmp, ec);
    return Error{path + ": write failed"};
  }
  fs::rename(tmp, path, ec);
  if (ec) return Error{path + ": cannot move finished file into place: " + ec.message()};
  return {};
}

}  // namespace pocket
