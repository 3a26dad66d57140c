// `pocket serve`: an OpenAI-compatible HTTP server over one Engine (cpp-httplib underneath).
//
// Endpoints: POST /v1/chat/completions, POST /v1/completions (streaming as server-sent events or not),
// GET /v1/models[/ID], GET /health, GET /metrics (Prometheus text), GET / (the chat page), and
// POST /pocket/render (extension: the prompt text and token ids a chat request renders to).
// Requests are generated one at a time (see scheduler.h); a client that disconnects cancels its request.
#pragma once

#include <memory>
#include <string>

#include "pocket/engine.h"
#include "pocket/result.h"
#include "server/media_inputs.h"
#include "server/scheduler.h"

namespace pocket::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;         // 0: any free port (see HttpServer::port())
  std::string api_key;     // non-empty: /v1/* and /pocket/* need "Authorization: Bearer <key>"
  std::string model_name;  // reported in /v1/models and responses
  size_t max_body_bytes = 8u << 20;
  int max_prompt_tokens = 0;  // ≤ 0: the context size - 1
  SchedulerOptions scheduler;
  MediaOptions media;        // --mmproj: image/audio content parts
  bool log_requests = true;  // one line per request on stderr
};

class HttpServer {
 public:
  // The engine must have a tokenizer; it must outlive the server.
  static Result<std::unique_ptr<HttpServer>> create(Engine& engine, ServerOptions options);
  ~HttpServer();

  // Binds host:port; returns the port (useful with port 0).
  Result<int> bind();
  // Serves until stop() (from another thread or a signal handler thread).
  void run();
  void stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pocket::server
