// GGUF reader: maps the file read-only and validates every count, length, offset and size before use.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "format/gguf.h"

namespace pocket {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as little-endian u32
constexpr int kMaxArrayDepth = 8;
constexpr int kMaxDims = 4;

// Bounds-checked little-endian cursor over the file bytes. Every read reports failure instead of
// reading past the end.
class Cursor {
 public:
  explicit Cursor(std::span<const uint8_t> b) : b_(b) {}
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return b_.size() - pos_; }

  template <class T>
  bool read(T& out) {
    if (remaining() < sizeof(T)) return false;
    std::memcpy(&out, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool read_string(std::string& out) {
    uint64_t n = 0;
    if (!read(n) || n > remaining()) return false;
    out.assign(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  bool skip_string() {
    uint64_t n = 0;
    if (!read(n) || n > remaining()) return false;
    pos_ += n;
    return true;
  }

 private:
  std::span<const uint8_t> b_;
  uint64_t pos_ = 0;
};

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufValueType::FLOAT64); }

size_t scalar_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8:
    case GgufValueType::INT8:
    case GgufValueType::BOOL: return 1;
    case GgufValueType::UINT16:
    case GgufValueType::INT16: return 2;
    case GgufValueType::UINT32:
    case GgufValueType::INT32:
    case GgufValueType::FLOAT32: return 4;
    case GgufValueType::UINT64:
    case GgufValueType::INT64:
    case GgufValueType::FLOAT64: return 8;
    default: return 0;
  }
}

// Reads one scalar of wire type t into its widened form.
bool read_scalar(Cursor& c, GgufValueType t, GgufValue::Data& out) {
  switch (t) {
    case GgufValueType::UINT8: { uint8_t v; if (!c.read(v)) return false; out = uint64_t{v}; return true; }
    case GgufValueType::UINT16: { uint16_t v; if (!c.read(v)) return false; out = uint64_t{v}; return true; }
    case GgufValueType::UINT32: { uint32_t v; if (!c.read(v)) return false; out = uint64_t{v}; return true; }
    case GgufValueType::UINT64: { uint64_t v; if (!c.read(v)) return false; out = v; return true; }
    case GgufValueType::INT8: { int8_t v; if (!c.read(v)) return false; out = int64_t{v}; return true; }
    case GgufValueType::INT16: { int16_t v; if (!c.read(v)) return false; out = int64_t{v}; return true; }
    case GgufValueType::INT32: { int32_t v; if (!c.read(v)) return false; out = int64_t{v}; return true; }
    case GgufValueType::INT64: { int64_t v; if (!c.read(v)) return false; out = v; return true; }
    case GgufValueType::FLOAT32: { float v; if (!c.read(v)) return false; out = double{v}; return true; }
    case GgufValueType::FLOAT64: { double v; if (!c.read(v)) return false; out = v; return true; }
    case GgufValueType::BOOL: {
      uint8_t v;
      if (!c.read(v) || v > 1) return false;
      out = v != 0;
      return true;
    }
    case GgufValueType::STRING: {
      std::string s;
      if (!c.read_string(s)) return false;
      out = std::move(s);
      return true;
    }
    default: return false;
  }
}

// Reads a value of type t (scalar or array, arrays possibly nested). `why` receives the reason on failure.
bool read_value(Cursor& c, GgufValueType t, GgufValue& out, int depth, std::string& why) {
  out.type = t;
  if (t != GgufValueType::ARRAY) {
    if (!read_scalar(c, t, out.data)) {
      why = t == GgufValueType::BOOL ? "bad bool or truncated value" : "truncated value";
      return false;
    }
    return true;
  }
  if (depth >= kMaxArrayDepth) {
    why = "arrays nested too deeply";
    return false;
  }
  uint32_t et = 0;
  uint64_t n = 0;
  if (!c.read(et) || !c.read(n)) {
    why = "truncated array header";
    return false;
  }
  if (!valid_value_type(et)) {
    why = "unknown array element type " + std::to_string(et);
    return false;
  }
  const auto elem = static_cast<GgufValueType>(et);
  out.elem_type = elem;
  // Every element takes at least one byte (strings and arrays take 8), so n is bounded by the file.
  const size_t min_elem = elem == GgufValueType::STRING ? 8 : elem == GgufValueType::ARRAY ? 12 : scalar_size(elem);
  if (n > c.remaining() / min_elem) {
    why = "array length " + std::to_string(n) + " exceeds the file size";
    return false;
  }
  auto fill = [&](auto& vec) {
    vec.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      GgufValue::Data d;
      if (!read_scalar(c, elem, d)) return false;
      using E = typename std::decay_t<decltype(vec)>::value_type;
      if constexpr (std::is_same_v<E, uint8_t>) {
        vec.push_back(std::get<bool>(d) ? 1 : 0);
      } else {
        vec.push_back(std::get<E>(std::move(d)));
      }
    }
    return true;
  };
  bool ok = true;
  switch (elem) {
    case GgufValueType::UINT8:
    case GgufValueType::UINT16:
    case GgufValueType::UINT32:
    case GgufValueType::UINT64: ok = fill(out.data.emplace<std::vector<uint64_t>>()); break;
    case GgufValueType::INT8:
    case GgufValueType::INT16:
    case GgufValueType::INT32:
    case GgufValueType::INT64: ok = fill(out.data.emplace<std::vector<int64_t>>()); break;
    case GgufValueType::FLOAT32:
    case GgufValueType::FLOAT64: ok = fill(out.data.emplace<std::vector<double>>()); break;
    case GgufValueType::BOOL: ok = fill(out.data.emplace<std::vector<uint8_t>>()); break;
    case GgufValueType::STRING: ok = fill(out.data.emplace<std::vector<std::string>>()); break;
    case GgufValueType::ARRAY: {
      auto& vec = out.data.emplace<std::vector<GgufValue>>();
      vec.reserve(n);
      for (uint64_t i = 0; i < n; ++i) {
        // Nested arrays carry their own element type, read by the recursive call.
        GgufValue v;
        if (!read_value(c, GgufValueType::ARRAY, v, depth + 1, why)) return false;
        vec.push_back(std::move(v));
      }
      break;
    }
  }
  if (!ok) why = "truncated array data";
  return ok;
}

bool mul_overflows(uint64_t a, uint64_t b, uint64_t& out) { return __builtin_mul_overflow(a, b, &out); }

}  // namespace

struct GgufFile::Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr) munmap(addr, size);
  }
};

GgufFile::GgufFile() = default;
GgufFile::~GgufFile() = default;
GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;

int64_t GgufTensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

int64_t GgufTensorInfo::n_rows() const {
  int64_t n = 1;
  for (size_t i = 1; i < ne.size(); ++i) n *= ne[i];
  return n;
}

Result<GgufFile> GgufFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{path + ": cannot open: " + std::strerror(errno)};
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const std::string msg = std::strerror(errno);
    ::close(fd);
    return Error{path + ": cannot stat: " + msg};
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{path + ": not a regular file"};
  }
  auto mapping = std::make_unique<Mapping>();
  mapping->size = static_cast<size_t>(st.st_size);
  if (mapping->size == 0) {
    ::close(fd);
    return Error{path + ": empty file, not a GGUF model"};
  }
  mapping->addr = mmap(nullptr, mapping->size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (mapping->addr == MAP_FAILED) {
    mapping->addr = nullptr;
    return Error{path + ": mmap failed: " + std::strerror(errno)};
  }
  auto parsed = parse({static_cast<const uint8_t*>(mapping->addr), mapping->size}, path);
  if (!parsed) return parsed.error();
  parsed->mapping_ = std::move(mapping);
  return std::move(parsed).value();
}

Result<GgufFile> GgufFile::parse(std::span<const uint8_t> bytes, std::string label) {
  GgufFile f;
  f.path_ = std::move(label);
  f.bytes_ = bytes;
  const std::string& p = f.path_;
  auto fail = [&](const std::string& msg) { return Error{p + ": " + msg}; };

  Cursor c(bytes);
  uint32_t magic = 0;
  if (!c.read(magic)) return fail("file too small to be a GGUF model (" + std::to_string(bytes.size()) + " bytes)");
  if (magic != kGgufMagic) return fail("not a GGUF file (bad magic)");
  uint32_t version = 0;
  if (!c.read(version)) return fail("truncated header (version)");
  if ((version & 0xFFFFu) == 0 && version != 0) {
    return fail("big-endian GGUF files are not supported (version field is byte-swapped)");
  }
  if (version != 2 && version != 3) return fail("unsupported GGUF version " + std::to_string(version));
  f.version_ = version;
  uint64_t n_tensors = 0, n_kv = 0;
  if (!c.read(n_tensors) || !c.read(n_kv)) return fail("truncated header (counts)");
  // Each kv takes ≥ 13 bytes and each tensor info ≥ 28, so counts beyond that are corrupt.
  if (n_kv > c.remaining() / 13) return fail("metadata count " + std::to_string(n_kv) + " exceeds the file size");
  if (n_tensors > c.remaining() / 28) return fail("tensor count " + std::to_string(n_tensors) + " exceeds the file size");

  f.kv_.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key;
    if (!c.read_string(key)) return fail("truncated metadata key #" + std::to_string(i));
    if (key.empty()) return fail("empty metadata key #" + std::to_string(i));
    uint32_t t = 0;
    if (!c.read(t)) return fail("truncated metadata '" + key + "'");
    if (!valid_value_type(t)) return fail("metadata '" + key + "' has unknown value type " + std::to_string(t));
    GgufValue v;
    std::string why;
    if (!read_value(c, static_cast<GgufValueType>(t), v, 0, why)) return fail("metadata '" + key + "': " + why);
    if (f.kv_index_.count(key)) return fail("duplicate metadata key '" + key + "'");
    f.kv_index_.emplace(key, f.kv_.size());
    f.kv_.emplace_back(std::move(key), std::move(v));
  }

  if (const GgufValue* a = f.find("general.alignment")) {
    const auto al = a->as_uint();
    if (!al || *al == 0 || (*al & (*al - 1)) != 0 || *al > (1u << 20)) {
      return fail("metadata 'general.alignment' must be a power of two");
    }
    f.alignment_ = *al;
  }

  f.tensors_.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    if (!c.read_string(t.name)) return fail("truncated tensor info #" + std::to_string(i));
    const std::string tn = "tensor '" + t.name + "'";
    uint32_t n_dims = 0;
    if (!c.read(n_dims)) return fail("truncated " + tn);
    if (n_dims == 0 || n_dims > kMaxDims) return fail(tn + " has " + std::to_string(n_dims) + " dimensions (1..4 allowed)");
    uint64_t n_el = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = 0;
      if (!c.read(ne)) return fail("truncated " + tn);
      if (ne == 0) return fail(tn + " has a zero-sized dimension");
      if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) || mul_overflows(n_el, ne, n_el) ||
          n_el > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return fail(tn + " element count overflows");
      }
      t.ne.push_back(static_cast<int64_t>(ne));
    }
    uint32_t raw_type = 0;
    if (!c.read(raw_type) || !c.read(t.offset)) return fail("truncated " + tn);
    const auto tr = type_traits(raw_type);
    if (!tr) return fail(tn + " has unknown tensor type " + std::to_string(raw_type));
    t.type = static_cast<GgmlType>(raw_type);
    if (t.ne[0] % tr->block_size != 0) {
      return fail(tn + " row length " + std::to_string(t.ne[0]) + " is not a multiple of the " +
                  std::string(tr->name) + " block size " + std::to_string(tr->block_size));
    }
    uint64_t blocks = n_el / static_cast<uint64_t>(tr->block_size);
    if (mul_overflows(blocks, tr->type_size, t.n_bytes)) return fail(tn + " byte size overflows");
    if (t.offset % f.alignment_ != 0) return fail(tn + " data offset is not aligned to " + std::to_string(f.alignment_));
    if (f.tensor_index_.count(t.name)) return fail("duplicate tensor name '" + t.name + "'");
    f.tensor_index_.emplace(t.name, f.tensors_.size());
    f.tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment.
  const uint64_t hdr_end = c.pos();
  f.data_offset_ = (hdr_end + f.alignment_ - 1) / f.alignment_ * f.alignment_;
  if (n_tensors > 0 && f.data_offset_ > bytes.size()) return fail("truncated file (no tensor data section)");
  const uint64_t data_size = bytes.size() - std::min<uint64_t>(f.data_offset_, bytes.size());
  for (auto& t : f.tensors_) {
    uint64_t end = 0;
    if (__builtin_add_overflow(t.offset, t.n_bytes, &end) || end > data_size) {
      return fail("tensor '" + t.name + "' data [" + std::to_string(t.offset) + ", +" + std::to_string(t.n_bytes) +
                  ") lies outside the file's data section (" + std::to_string(data_size) + " bytes; truncated file?)");
    }
    t.data = bytes.data() + f.data_offset_ + t.offset;
  }
  return f;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(std::string(key));
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<uint64_t> GgufFile::get_uint(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return Error{path_ + ": missing required metadata '" + std::string(key) + "'"};
  auto u = v->as_uint();
  if (!u) return Error{path_ + ": metadata '" + std::string(key) + "' must be an unsigned integer"};
  return *u;
}

Result<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return Error{path_ + ": missing required metadata '" + std::string(key) + "'"};
  auto d = v->as_float();
  if (!d) return Error{path_ + ": metadata '" + std::string(key) + "' must be a number"};
  return *d;
}

Result<std::string> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return Error{path_ + ": missing required metadata '" + std::string(key) + "'"};
  const std::string* s = v->as_string();
  if (!s) return Error{path_ + ": metadata '" + std::string(key) + "' must be a string"};
  return *s;
}

void GgufFile::advise_willneed(const GgufTensorInfo& t) const {
  if (!mapping_) return;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(t.data) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(t.data) + t.n_bytes;
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_WILLNEED);
}

}  // namespace pocket
