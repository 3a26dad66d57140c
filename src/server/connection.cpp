#include "server/connection.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace pocket::server {
namespace {

int port_of(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return -1;
}

// The numeric host, as the HTTP library writes Request::remote_addr.
std::string host_of(const sockaddr_storage& a, socklen_t len) {
  char host[NI_MAXHOST] = {};
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&a), len, host, sizeof(host), nullptr, 0, NI_NUMERICHOST) != 0) {
    return {};
  }
  return host;
}

}  // namespace

ConnectionWatch::ConnectionWatch(const std::string& remote_addr, int remote_port, int local_port) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    sockaddr_storage peer{}, local{};
    socklen_t peer_len = sizeof(peer), local_len = sizeof(local);
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    if (port_of(peer) != remote_port || port_of(local) != local_port) continue;
    if (host_of(peer, peer_len) != remote_addr) continue;
    fd_ = static_cast<int>(fd);
    break;
  }
  closedir(dir);
}

bool ConnectionWatch::closed() const {
  if (fd_ < 0) return false;
  char c;
  const ssize_t n = recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;  // orderly shutdown by the peer
  if (n > 0) return false;  // more data (a pipelined request)
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

DisconnectMonitor::DisconnectMonitor() : thread_([this] { loop(); }) {}

DisconnectMonitor::~DisconnectMonitor() {
  stop_ = true;
  thread_.join();
}

void DisconnectMonitor::loop() {
  while (!stop_) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [watch, cancel] : entries_) {
        if (!cancel->load() && watch->closed()) cancel->store(true);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

DisconnectMonitor::Registration::Registration(DisconnectMonitor& m, const ConnectionWatch& w, std::atomic<bool>& cancel)
    : monitor_(m) {
  std::lock_guard<std::mutex> lock(m.mu_);
  it_ = m.entries_.insert(m.entries_.end(), {&w, &cancel});
}

DisconnectMonitor::Registration::~Registration() {
  std::lock_guard<std::mutex> lock(monitor_.mu_);
  monitor_.entries_.erase(it_);
}

}  // namespace pocket::server
