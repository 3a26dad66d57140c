// Noticing that an HTTP client went away while its request is being computed. The HTTP library hands
// handlers the connection's addresses but not its socket, so the socket is found by those addresses
// among the process's descriptors (/proc/self/fd); a peek at it tells whether the peer has closed.
#pragma once

#include <atomic>
#include <list>
#include <mutex>
#include <string>
#include <thread>

namespace pocket::server {

class ConnectionWatch {
 public:
  // The server-side socket connected to remote_addr:remote_port on local_port (-1 if not found).
  ConnectionWatch(const std::string& remote_addr, int remote_port, int local_port);
  bool found() const { return fd_ >= 0; }
  // The peer closed the connection (or it failed). False while it is open or unknown.
  bool closed() const;

 private:
  int fd_ = -1;
};

// A thread that checks registered connections every 50 ms and sets their cancel flags when they close.
class DisconnectMonitor {
 public:
  DisconnectMonitor();
  ~DisconnectMonitor();

  class Registration {
   public:
    Registration(DisconnectMonitor& m, const ConnectionWatch& w, std::atomic<bool>& cancel);
    ~Registration();
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

   private:
    DisconnectMonitor& monitor_;
    std::list<std::pair<const ConnectionWatch*, std::atomic<bool>*>>::iterator it_;
  };

 private:
  void loop();
  std::mutex mu_;
  std::list<std::pair<const ConnectionWatch*, std::atomic<bool>*>> entries_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace pocket::server
