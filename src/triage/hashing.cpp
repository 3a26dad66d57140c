#include "triage/hashing.h"

#include <openssl/evp.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace pocket::triage {

namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct FileClose {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

std::string hex(const unsigned char* d, unsigned n) {
  static const char* k = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (unsigned i = 0; i < n; ++i) {
    s[2 * i] = k[d[i] >> 4];
    s[2 * i + 1] = k[d[i] & 15];
  }
  return s;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(bytes.data(), bytes.size(), d, &n, EVP_sha256(), nullptr);
  return hex(d, n);
}

Result<std::string> sha256_file(const std::string& path) {
  std::unique_ptr<std::FILE, FileClose> f(std::fopen(path.c_str(), "rb"));
  if (!f) return Error{path + ": cannot open: " + std::strerror(errno)};
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return Error{"SHA-256 is not available"};
  std::vector<unsigned char> buf(1 << 20);
  for (;;) {
    const size_t got = std::fread(buf.data(), 1, buf.size(), f.get());
    if (got > 0) EVP_DigestUpdate(ctx.get(), buf.data(), got);
    if (got < buf.size()) {
      if (std::ferror(f.get())) return Error{path + ": read error: " + std::strerror(errno)};
      break;
    }
  }
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(ctx.get(), d, &n);
  return hex(d, n);
}

int shard_of(std::string_view path, int n_shards) {
  if (n_shards <= 1) return 0;
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(path.data(), path.size(), d, &n, EVP_sha256(), nullptr);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | d[i];
  return static_cast<int>(v % static_cast<uint64_t>(n_shards));
}

Result<ShardSpec> parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  const auto bad = [&](const std::string& why) { return Error{"--shard '" + text + "': " + why}; };
  if (slash == std::string::npos) return bad("expected K/N, e.g. 0/4 (K is 0-based)");
  ShardSpec s;
  const char* b = text.data();
  auto r1 = std::from_chars(b, b + slash, s.index);
  auto r2 = std::from_chars(b + slash + 1, b + text.size(), s.count);
  if (r1.ec != std::errc() || r1.ptr != b + slash || r2.ec != std::errc() || r2.ptr != b + text.size()) {
    return bad("expected two integers K/N, e.g. 0/4");
  }
  if (s.count < 1 || s.count > 100000) return bad("N must be between 1 and 100000");
  if (s.index < 0 || s.index >= s.count) return bad("K must be 0-based: 0 ≤ K < N");
  return s;
}

}  // namespace pocket::triage
