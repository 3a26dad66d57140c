#include "triage/record_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "triage/hashing.h"

namespace pocket::triage {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Status sys_error(const std::string& what, const std::string& path) {
  return Error{path + ": " + what + ": " + std::strerror(errno)};
}

Status fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("cannot open directory", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return sys_error("cannot sync directory", dir);
  return Status::Ok();
}

json read_json_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return nullptr;
  std::ostringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace

Status write_file_atomic(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return sys_error("cannot create", tmp);
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = sys_error("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = sys_error("cannot sync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = sys_error("cannot rename into place", path);
    ::unlink(tmp.c_str());
    return s;
  }
  const fs::path parent = fs::path(path).parent_path();
  return fsync_dir(parent.empty() ? "." : parent.string());
}

Result<RecordStore> RecordStore::open(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "records", ec);
  if (ec) return Error{dir + ": cannot create the report directory: " + ec.message()};
  // Temp files of a run killed between write and rename: never a finished record.
  for (const fs::path& d : {fs::path(dir), fs::path(dir) / "records"}) {
    for (const auto& e : fs::directory_iterator(d, ec)) {
      if (e.path().filename().string().find(".tmp.") != std::string::npos) fs::remove(e.path(), ec);
    }
  }
  return RecordStore(dir);
}

std::string RecordStore::record_path(const std::string& file_path) const {
  return (fs::path(dir_) / "records" / (sha256_hex(file_path).substr(0, 32) + ".json")).string();
}

std::map<std::string, json> RecordStore::load_all(std::vector<std::string>* bad) const {
  std::map<std::string, json> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(dir_) / "records", ec)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".json" || name.find(".tmp.") != std::string::npos) continue;
    json r = read_json_file(e.path());
    if (!r.is_object() || !r.contains("path") || !r["path"].is_string()) {
      if (bad) bad->push_back(e.path().string());
      continue;
    }
    std::string p = r["path"].get<std::string>();
    out[std::move(p)] = std::move(r);
  }
  return out;
}

json RecordStore::find(const std::string& file_path) const {
  json r = read_json_file(record_path(file_path));
  if (!r.is_object() || r.value("path", std::string()) != file_path) return nullptr;
  return r;
}

Status RecordStore::put(const json& record) const {
  if (!record.contains("path") || !record["path"].is_string()) return Error{"a triage record needs a path"};
  return write_file_atomic(record_path(record["path"].get<std::string>()),
                           record.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
}

Status RecordStore::write_manifest(const json& manifest) const {
  return write_file_atomic((fs::path(dir_) / "manifest.json").string(),
                           manifest.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

json RecordStore::read_manifest() const { return read_json_file(fs::path(dir_) / "manifest.json"); }

bool record_is_current(const json& record, const std::string& sha256, const std::string& config) {
  return record.is_object() && !sha256.empty() && record.value("sha256", std::string()) == sha256 &&
         record.value("config", std::string()) == config;
}

}  // namespace pocket::triage
