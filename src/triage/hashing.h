// Content hashes (SHA-256 through OpenSSL's EVP interface) and the stable shard assignment.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace pocket::triage {

// Lower-case hex SHA-256 of bytes / of a file's content (read in 1-MiB blocks; the file is only read).
std::string sha256_hex(std::string_view bytes);
Result<std::string> sha256_file(const std::string& path);

// Which of `n_shards` workers handles `path` (0-based): the first 8 bytes of SHA-256(path) as a
// big-endian integer, modulo n_shards. Depends only on the path string, so every worker computes
// the same split without talking to the others (Python: int(sha256(p).hexdigest()[:16], 16) % n).
int shard_of(std::string_view path, int n_shards);

struct ShardSpec {
  int index = 0;  // 0-based, as Kubernetes' JOB_COMPLETION_INDEX
  int count = 1;
};
// "K/N" with 0 ≤ K < N ≤ 100000; errors name the problem.
Result<ShardSpec> parse_shard(const std::string& text);

}  // namespace pocket::triage
