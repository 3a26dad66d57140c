// `pocket serve -m M`: an OpenAI-compatible HTTP server with a chat page (src/server/http_server.h).
#include <pthread.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "cli_util.h"
#include "commands.h"
#include "pocket/engine.h"

#ifdef POCKET_HAVE_SERVER
#include "server/http_server.h"
#endif

namespace pocket::cli {
namespace {

struct ServeArgs {
  std::string model;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  std::string alias;
  int slots = 1;
  int context = 0;
  int threads = 0;
  int max_queue = 32;
  size_t max_body = 8u << 20;
  int max_prompt_tokens = 0;
  std::string mmproj;
  bool allow_local_media = false;
  int image_tokens = 280;
  bool quiet = false;
};

#ifdef POCKET_HAVE_SERVER
int run_serve(const ServeArgs& a) {
  // SIGINT/SIGTERM are taken by a thread that stops the server; every other thread blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto engine = Engine::load(a.model, {a.threads});
  if (!engine) return report_error(engine.error().message);
  server::ServerOptions o;
  o.host = a.host;
  o.port = a.port;
  o.api_key = a.api_key;
  o.model_name = !a.alias.empty() ? a.alias : std::filesystem::path(a.model).stem().string();
  o.max_body_bytes = a.max_body;
  o.max_prompt_tokens = a.max_prompt_tokens;
  o.scheduler.slots = a.slots;
  o.scheduler.context = a.context;
  o.scheduler.max_queue = a.max_queue;
  o.log_requests = !a.quiet;
  o.media.mmproj_path = a.mmproj;
  o.media.allow_local_files = a.allow_local_media;
  o.media.threads = a.threads;
  o.media.image_tokens = a.image_tokens;
  o.scheduler.max_batch = std::max(512, a.image_tokens);
  auto srv = server::HttpServer::create(**engine, o);
  if (!srv) return report_error(srv.error().message);
  auto port = (*srv)->bind();
  if (!port) return report_error(port.error().message);
  if (a.host != "127.0.0.1" && a.host != "localhost" && a.host != "::1" && a.api_key.empty()) {
    std::fprintf(stderr,
                 "pocket serve: warning: listening on %s without --api-key: anyone who can reach it can use it\n",
                 a.host.c_str());
  }
  const std::string shown = a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
  std::printf("pocket serve: %s listening on http://%s:%d (chat page at /, API at /v1)\n", o.model_name.c_str(),
              shown.c_str(), *port);
  std::fflush(stdout);
  server::HttpServer* s = srv->get();
  std::thread stopper([s, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    s->stop();
  });
  s->run();
  // run() also returns if listening failed; wake the stopper thread then.
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  std::fprintf(stderr, "pocket serve: stopped\n");
  return 0;
}
#else
int run_serve(const ServeArgs&) {
  return report_error(
      "this build has no HTTP server: configure with tests/server/server.cmake included "
      "(needs Debian's libcpp-httplib-dev)");
}
#endif

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve the model over an OpenAI-compatible HTTP API, with a chat page");
  cmd->add_option("-m,--model", args->model, "GGUF model file")->required();
  cmd->add_option("--host", args->host, "Address to listen on (default 127.0.0.1: this machine only)");
  cmd->add_option("--port", args->port, "Port (default 8080; 0 = any free port, printed at start)");
  cmd->add_option("--api-key", args->api_key, "Require 'Authorization: Bearer KEY' on /v1 requests");
  cmd->add_option("--alias", args->alias, "Model name reported by the API (default: the file name)");
  cmd->add_option("--slots", args->slots, "Conversations kept in memory for prefix reuse (each has its own cache)");
  cmd->add_option("-c,--ctx,--context", args->context, "Context size in tokens per slot (default: min(model's, 4096))");
  cmd->add_option("-t,--threads", args->threads, "Threads (default: all cores)");
  cmd->add_option("--max-queue", args->max_queue, "Requests that may wait for their turn; more get HTTP 429");
  cmd->add_option("--max-body", args->max_body, "Largest request body in bytes (default 8 MiB); larger get HTTP 413");
  cmd->add_option("--max-prompt-tokens", args->max_prompt_tokens, "Longest prompt accepted (default: context - 1)");
  cmd->add_option("--mmproj", args->mmproj,
                  "Multimodal projector (mmproj-*.gguf): image_url and input_audio content parts");
  cmd->add_option("--image-tokens", args->image_tokens, "Soft tokens per image: 70, 140, 280 (default), 560 or 1120")
      ->check(CLI::IsMember({70, 140, 280, 560, 1120}));
  cmd->add_flag("--allow-local-media", args->allow_local_media,
                "Let image_url name files on this machine (file:///path or /path); off by default");
  cmd->add_flag("-q,--quiet", args->quiet, "Do not log each request on stderr");
  cmd->callback([args, &exit_code] { exit_code = run_serve(*args); });
}

}  // namespace pocket::cli
