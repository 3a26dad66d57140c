// Offline by construction: the triage process takes away its own ability to reach a network before it
// opens the first input, so that no bug, library or hostile file can make it send data anywhere.
#pragma once

#include "common/result.h"

namespace pocket::triage {

struct SandboxInfo {
  bool seccomp = false;            // the socket filter is installed (always, when forbid_network succeeds)
  bool network_namespace = false;  // the calling thread also moved into an empty network namespace
};

// Installs a seccomp-BPF filter (libseccomp) on every thread of the process and on everything it
// later forks or executes: socket() fails with EACCES for every address family except AF_UNIX, and
// io_uring_setup() fails with EPERM (io_uring can open sockets without calling socket()). Sockets
// that already exist are not affected — call this before anything opens one. When permitted (root or
// CAP_SYS_ADMIN) the calling thread additionally unshares its network namespace, so even loopback is
// gone. Irreversible for the life of the process. Errors name the step that failed (e.g. a kernel
// without seccomp).
Status forbid_network(SandboxInfo* info = nullptr);

}  // namespace pocket::triage
