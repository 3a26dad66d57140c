#include "triage/sandbox.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <functional>
#include <string>
#include <thread>

namespace pocket::triage {
namespace {

// Runs `body` in a forked child (the filter is irreversible, so the test process itself must stay
// unfiltered) and returns its exit code; 200+ means the child died from a signal.
int run_in_child(const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return 255;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

// A TCP listener on 127.0.0.1 with an ephemeral port.
struct Listener {
  Listener() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port = ntohs(addr.sin_port);
  }
  ~Listener() {
    if (fd >= 0) close(fd);
  }
  // True when a client connection is waiting (consumes it).
  bool accept_pending() const {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) != 1) return false;
    const int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return false;
    close(c);
    return true;
  }
  int fd = -1;
  int port = 0;
};

// 0 when a TCP connection to 127.0.0.1:port was established; else the failing step's errno.
int try_tcp_connect(int port) {
  const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int rc = connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ? 0 : errno;
  close(s);
  return rc;
}

TEST(TriageSandbox, ControlWithoutFilterTheLoopbackConnectionSucceeds) {
  Listener listener;
  ASSERT_GT(listener.port, 0);
  EXPECT_EQ(run_in_child([&] { return try_tcp_connect(listener.port) == 0 ? 0 : 1; }), 0);
  EXPECT_TRUE(listener.accept_pending());
}

TEST(TriageSandbox, AfterForbidNetworkInetSocketsAndConnectFailUnixSocketsWork) {
  Listener listener;
  ASSERT_GT(listener.port, 0);
  const int code = run_in_child([&] {
    // A thread that exists before the filter must be covered too (TSYNC).
    std::atomic<int> stage{0};
    std::atomic<int> thread_errno{0};
    std::thread early([&] {
      while (stage.load() == 0) std::this_thread::yield();
      const int s = socket(AF_INET, SOCK_DGRAM, 0);
      thread_errno = s < 0 ? errno : 0;
      if (s >= 0) close(s);
      stage = 2;
    });
    SandboxInfo info;
    const Status st = forbid_network(&info);
    stage = 1;
    early.join();
    if (!st.ok() || !info.seccomp) return 1;
    if (socket(AF_INET, SOCK_STREAM, 0) >= 0 || errno != EACCES) return 2;
    if (socket(AF_INET6, SOCK_DGRAM, 0) >= 0 || errno != EACCES) return 3;
    if (socket(AF_NETLINK, SOCK_RAW, 0) >= 0) return 4;
    if (socket(AF_PACKET, SOCK_RAW, 0) >= 0) return 5;
    if (try_tcp_connect(listener.port) == 0) return 6;
    if (thread_errno.load() != EACCES) return 7;
    const int unix_socket = socket(AF_UNIX, SOCK_STREAM, 0);
    if (unix_socket < 0) return 8;
    close(unix_socket);
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 9;
    if (write(pair[0], "x", 1) != 1) return 10;
    char c = 0;
    if (read(pair[1], &c, 1) != 1 || c != 'x') return 10;
    close(pair[0]);
    close(pair[1]);
    if (syscall(SYS_io_uring_setup, 1, nullptr) >= 0 || errno != EPERM) return 11;
    // Programs it starts inherit the filter: bash's /dev/tcp cannot connect either.
    if (access("/bin/bash", X_OK) == 0) {
      const std::string cmd =
          "/bin/bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(listener.port) + "' 2>/dev/null";
      if (system(cmd.c_str()) == 0) return 12;
    }
    return 0;
  });
  EXPECT_EQ(code, 0) << "child failed at check " << code;
  EXPECT_FALSE(listener.accept_pending()) << "a connection reached the listener";
}

}  // namespace
}  // namespace pocket::triage
