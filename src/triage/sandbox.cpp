#include "triage/sandbox.h"

#include <sched.h>
#include <seccomp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace pocket::triage {
namespace {

struct FilterReleaser {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

std::string seccomp_error(const char* step, int rc) {
  return std::string("network sandbox: ") + step + ": " + std::strerror(-rc);
}

}  // namespace

Status forbid_network(SandboxInfo* info) {
  SandboxInfo applied;
  // Best effort first: an empty network namespace (no interfaces, not even loopback). Unprivileged
  // processes get EPERM here, which is fine — the seccomp filter below is the guarantee.
  if (unshare(CLONE_NEWNET) == 0) applied.network_namespace = true;

  std::unique_ptr<void, FilterReleaser> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return Error{"network sandbox: seccomp_init failed (kernel without seccomp?)"};
  // All threads get the filter (TSYNC), not only the caller; no_new_privs is set by libseccomp.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc != 0) {
    return Error{seccomp_error("cannot synchronise the filter across threads", rc)};
  }
  // socket(domain, ...) with domain != AF_UNIX → EACCES (what a denied socket() returns under
  // SELinux/AppArmor, so callers report it as "permission denied"). The domain is an int: compare
  // only its low 32 bits, exactly as the kernel reads it.
  if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
                                SCMP_A0_32(SCMP_CMP_NE, static_cast<uint32_t>(AF_UNIX)));
      rc != 0) {
    return Error{seccomp_error("cannot add the socket rule", rc)};
  }
  // io_uring (IORING_OP_SOCKET) creates sockets without the socket() system call.
  if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(io_uring_setup), 0); rc != 0) {
    return Error{seccomp_error("cannot add the io_uring rule", rc)};
  }
  if (int rc = seccomp_load(ctx.get()); rc != 0) return Error{seccomp_error("cannot load the filter", rc)};
  applied.seccomp = true;
  if (info != nullptr) *info = applied;
  return Status::Ok();
}

}  // namespace pocket::triage
