#include "server/http_server.h"

#include <httplib.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>

#include "model/gemma4_model.h"
#include "runtime/conversation.h"
#include "runtime/json_constraint.h"
#include "server/api.h"
#include "server/connection.h"
#include "server/stream_splitter.h"
#include "text/chat_options.h"
#include "text/tokenizer.h"

// The chat page, generated from src/server/web/index.html by tests/server/server.cmake.
#if __has_include("pocket_server_page.h")
#include "pocket_server_page.h"
#else
static constexpr char kPocketChatPage[] =
    "<!doctype html><meta charset=utf-8><title>pocket</title><p>This build has no chat page "
    "(tests/server/server.cmake was not included); the API works.";
#endif

namespace pocket::server {
namespace {

using nlohmann::json;

// A generation request, checked and tokenized, shared by the handler and (streaming) the content
// provider, which runs after the handler has returned.
struct Prepared {
  Request request;
  Envelope env;
  std::vector<int32_t> prompt;
  std::vector<MediaInput> media;  // soft-token blocks in `prompt` (offsets index it)
  std::vector<std::shared_ptr<const MediaEmbedding>> media_owned;
  std::string forced;  // output text the prompt already ends with (a forced tool-call opening)
  std::unique_ptr<TokenConstraint> constraint;
  GenerateOptions options;
  std::atomic<bool> cancel{false};
  std::unique_ptr<ConnectionWatch> watch;
};

std::string finish_reason(StopReason reason, bool tool_calls) {
  if (tool_calls) return "tool_calls";
  return reason == StopReason::kMaxTokens || reason == StopReason::kContextFull ? "length" : "stop";
}

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(to_text(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) { send_json(res, e.status, error_body(e)); }

ApiError server_error(std::string message, int status = 500, std::string type = "server_error", std::string code = "") {
  return {status, std::move(message), std::move(type), std::move(code), ""};
}

}  // namespace

struct HttpServer::Impl {
  Impl(Engine& e, const Tokenizer& t, ServerOptions o)
      : engine(e), tok(t), opt(std::move(o)), scheduler(e, t, opt.scheduler) {}

  Engine& engine;
  const Tokenizer& tok;
  std::unique_ptr<MediaInputs> media;
  ServerOptions opt;
  ChatFormatOptions format;
  std::shared_ptr<const TokenTexts> texts;
  Scheduler scheduler;
  httplib::Server http;
  DisconnectMonitor monitor;
  int32_t tool_call_token = -1;
  int64_t started = now_seconds();
  std::mutex counts_mu;
  std::map<std::pair<std::string, int>, int64_t> counts;  // (endpoint, status) → requests

  void routes();
  bool authorized(const httplib::Request& req, httplib::Response& res) const;
  std::shared_ptr<Prepared> prepare(const httplib::Request& req, bool chat, ApiError& err);
  std::optional<ApiError> render(Prepared& p, std::string* text);
  void generate(const httplib::Request& req, httplib::Response& res, bool chat);
  void stream(const std::shared_ptr<Prepared>& p, httplib::DataSink& sink);
  Outcome outcome(const Prepared& p, const JobResult& r, const StreamSplitter::Delta& parts) const;
  json models() const;
  std::string metrics();
};

Result<std::unique_ptr<HttpServer>> HttpServer::create(Engine& engine, ServerOptions options) {
  auto tok = engine.tokenizer();
  if (!tok) return Error{"cannot serve this model: " + tok.error().message};
  auto impl = std::make_unique<Impl>(engine, **tok, std::move(options));
  Status st = impl->scheduler.start();
  if (!st) return st.error();
  auto media = MediaInputs::load(impl->opt.media, engine.info().n_embd);
  if (!media) return media.error();
  impl->media = std::move(media).value();
  impl->format = chat_format_for_model(engine.model().file());
  impl->texts = std::make_shared<const TokenTexts>(**tok);
  if (auto id = (*tok)->find("<|tool_call>")) impl->tool_call_token = *id;
  if (impl->opt.model_name.empty()) impl->opt.model_name = "gemma4";
  impl->routes();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Result<int> HttpServer::bind() {
  auto& http = impl_->http;
  const auto& o = impl_->opt;
  int port = o.port;
  if (port == 0) {
    port = http.bind_to_any_port(o.host);
    if (port < 0) return Error{"cannot listen on " + o.host + " (any port)"};
  } else if (!http.bind_to_port(o.host, port)) {
    return Error{"cannot listen on " + o.host + ":" + std::to_string(port) + " (in use, or not an address here)"};
  }
  return port;
}

void HttpServer::run() {
  std::signal(SIGPIPE, SIG_IGN);  // a client that disconnects mid-write must not end the server
  impl_->http.listen_after_bind();
}

void HttpServer::stop() { impl_->http.stop(); }

bool HttpServer::Impl::authorized(const httplib::Request& req, httplib::Response& res) const {
  if (opt.api_key.empty()) return true;
  if (req.get_header_value("Authorization") == "Bearer " + opt.api_key) return true;
  send_error(res, {401, "a valid API key is required: send \"Authorization: Bearer <key>\"", "invalid_request_error",
                   "invalid_api_key", ""});
  return false;
}

void HttpServer::Impl::routes() {
  const int queue = opt.scheduler.max_queue;
  http.new_task_queue = [queue] { return new httplib::ThreadPool(static_cast<size_t>(queue + 8)); };
  http.set_payload_max_length(opt.max_body_bytes);
  http.set_keep_alive_max_count(100);
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    const bool api = req.path.rfind("/v1/", 0) == 0 || req.path.rfind("/pocket/", 0) == 0;
    return api && !authorized(req, res) ? httplib::Server::HandlerResponse::Handled
                                        : httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors the library produces itself (unknown path, body too large, bad request line) in OpenAI's format.
  http.set_error_handler(
      httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty() || res.content_length_ > 0) return httplib::Server::HandlerResponse::Unhandled;
        ApiError e{res.status, "", "invalid_request_error", "", ""};
        if (res.status == 404) {
          e.message = "unknown endpoint: " + req.method + " " + req.path;
          e.code = "unknown_url";
        } else if (res.status == 413) {
          e.message = "the request body is larger than this server's limit of " + std::to_string(opt.max_body_bytes) +
                      " bytes (--max-body)";
          e.code = "request_too_large";
        } else {
          e.message = "the request could not be read (HTTP " + std::to_string(res.status) + ")";
        }
        send_error(res, e);
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, server_error("internal error: " + what));
  });
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    static const std::set<std::string> kKnown = {
        "/", "/health", "/metrics", "/v1/models", "/v1/completions", "/v1/chat/completions", "/pocket/render"};
    {
      std::lock_guard<std::mutex> lock(counts_mu);
      ++counts[{kKnown.count(req.path) ? req.path : "other", res.status}];
    }
    if (opt.log_requests) std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
  });

  http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kPocketChatPage, "text/html; charset=utf-8");
  });
  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const auto s = scheduler.stats();
    send_json(res, 200,
              {{"status", "ok"},
               {"model", opt.model_name},
               {"waiting", s.waiting},
               {"busy", s.active},
               {"running", s.running}});
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics(), "text/plain; version=0.0.4");
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) { send_json(res, 200, models()); });
  http.Get(R"(/v1/models/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    if (id != opt.model_name) {
      return send_error(res, {404, "the model '" + id + "' does not exist; this server has '" + opt.model_name + "'",
                              "invalid_request_error", "model_not_found", "model"});
    }
    send_json(res, 200, models()["data"][0]);
  });
  for (const char* path : {"/v1/chat/completions", "/chat/completions"}) {
    http.Post(path, [this](const httplib::Request& req, httplib::Response& res) { generate(req, res, true); });
  }
  for (const char* path : {"/v1/completions", "/completions"}) {
    http.Post(path, [this](const httplib::Request& req, httplib::Response& res) { generate(req, res, false); });
  }
  http.Post("/pocket/render", [this](const httplib::Request& req, httplib::Response& res) {
    ApiError err;
    auto p = prepare(req, true, err);
    if (!p) return send_error(res, err);
    std::string text;
    if (auto e = render(*p, &text)) return send_error(res, *e);
    send_json(res, 200, {{"prompt", text}, {"tokens", p->prompt}, {"n_tokens", p->prompt.size()}});
  });
}

json HttpServer::Impl::models() const {
  const ModelInfo& m = engine.info();
  return {{"object", "list"},
          {"data", json::array({{{"id", opt.model_name},
                                 {"object", "model"},
                                 {"created", started},
                                 {"owned_by", "pocket"},
                                 {"meta",
                                  {{"architecture", m.architecture},
                                   {"n_ctx", scheduler.context_size()},
                                   {"n_ctx_train", m.context_length},
                                   {"n_vocab", m.n_vocab},
                                   {"n_embd", m.n_embd},
                                   {"n_layer", m.n_layer}}}}})}};
}

std::string HttpServer::Impl::metrics() {
  const auto s = scheduler.stats();
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, double v) {
    char line[1024];
    std::snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n%s %.6g\n", name, help, name, type, name, v);
    out += line;
  };
  out += "# HELP pocket_requests_total HTTP requests answered, by endpoint and status.\n";
  out += "# TYPE pocket_requests_total counter\n";
  {
    std::lock_guard<std::mutex> lock(counts_mu);
    for (const auto& [key, n] : counts) {
      out += "pocket_requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " +
             std::to_string(n) + "\n";
    }
  }
  metric("pocket_generations_total", "counter", "Generation jobs run (finished, failed or cancelled).",
         static_cast<double>(s.jobs));
  metric("pocket_generations_cancelled_total", "counter", "Generation jobs cancelled (client gone).",
         static_cast<double>(s.cancelled));
  metric("pocket_prompt_tokens_total", "counter", "Prompt tokens of generation jobs.",
         static_cast<double>(s.prompt_tokens));
  metric("pocket_prompt_tokens_cached_total", "counter", "Prompt tokens reused from a slot's cache.",
         static_cast<double>(s.reused_tokens));
  metric("pocket_completion_tokens_total", "counter", "Generated tokens.", static_cast<double>(s.generated_tokens));
  metric("pocket_prompt_seconds_total", "counter", "Time spent evaluating prompts.", s.prompt_seconds);
  metric("pocket_decode_seconds_total", "counter", "Time spent generating.", s.decode_seconds);
  metric("pocket_decode_tokens_per_second", "gauge", "Generated tokens per second of decoding, overall.",
         s.decode_seconds > 0 ? static_cast<double>(s.generated_tokens) / s.decode_seconds : 0.0);
  metric("pocket_queue_waiting", "gauge", "Requests waiting for their turn.", s.waiting);
  metric("pocket_generation_active", "gauge", "1 while a generation runs.", s.active ? 1 : 0);
  metric("pocket_prompt_cache_resets_total", "counter",
         "Prompts sharing a cached prefix that were evaluated from the start anyway.",
         static_cast<double>(s.cache_resets));
  metric("pocket_generations_running", "gauge", "Requests generating now (the decode batch size).", s.running);
  metric("pocket_decode_batch_mean", "gauge", "Mean number of requests per batched decode step.",
         s.decode_steps > 0 ? static_cast<double>(s.decode_step_tokens) / static_cast<double>(s.decode_steps) : 0.0);
  return out;
}

std::optional<ApiError> HttpServer::Impl::render(Prepared& p, std::string* text) {
  const Request& r = p.request;
  ChatFormatOptions fmt = format;
  fmt.thinking = r.thinking && r.response_format == ResponseFormat::kText;
  auto ids = chat_media_prompt(tok, "", r.messages, r.tools, fmt, engine.info().image_tokens_bidirectional);
  if (!ids)
    return ApiError{400, "messages: " + ids.error().message, "invalid_request_error", "invalid_value", "messages"};
  p.prompt = std::move(ids->tokens);
  p.media = std::move(ids->media);
  p.media_owned = std::move(ids->owned);
  // tool_choice "required" or a named function: the answer starts with the call (the prompt ends with
  // its opening); "none": the call token is never sampled.
  if (r.tool_choice == ToolChoice::kRequired || r.tool_choice == ToolChoice::kNamed) {
    const std::string name = r.tool_choice == ToolChoice::kNamed ? r.tool_name
                             : r.tools.size() == 1               ? r.tools[0].function.value("name", std::string())
                                                                 : std::string();
    p.forced = "<|tool_call>call:" + (name.empty() ? std::string() : name + "{");
    auto more = tok.encode(p.forced, false, true);
    p.prompt.insert(p.prompt.end(), more.begin(), more.end());
  }
  if (text) {
    std::vector<ChatMessage> all = r.messages;
    auto t = render_chat(all, r.tools, fmt);
    *text = (t ? *t : std::string()) + p.forced;
  }
  return std::nullopt;
}

std::shared_ptr<Prepared> HttpServer::Impl::prepare(const httplib::Request& req, bool chat, ApiError& err) {
  if (req.body.empty()) {
    err = {400, "the request body is empty; send a JSON object", "invalid_request_error", "invalid_json", ""};
    return nullptr;
  }
  json body;
  try {
    body = json::parse(req.body);
  } catch (const json::parse_error& e) {
    err = {400, std::string("the request body is not valid JSON: ") + e.what(), "invalid_request_error", "invalid_json",
           ""};
    return nullptr;
  }
  auto p = std::make_shared<Prepared>();
  ParseLimits limits;
  limits.n_vocab = tok.n_vocab();
  const uint64_t seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  if (auto e = parse_request(body, chat, limits, seed, p->request)) {
    err = *e;
    return nullptr;
  }
  Request& r = p->request;
  if (chat) {
    if (auto e = media->attach(r.messages)) {
      err = *e;
      return nullptr;
    }
    if (auto e = render(*p, nullptr)) {
      err = *e;
      return nullptr;
    }
  } else if (!r.prompt_ids.empty()) {
    p->prompt = r.prompt_ids;
  } else {
    p->prompt = tok.encode(r.prompt, r.prompt.rfind("<bos>", 0) != 0, /*parse_special=*/true);
  }
  const int ctx = scheduler.context_size();
  const int limit = opt.max_prompt_tokens > 0 ? std::min(opt.max_prompt_tokens, ctx - 1) : ctx - 1;
  if (static_cast<int>(p->prompt.size()) > limit) {
    err = {400,
           "the prompt is " + std::to_string(p->prompt.size()) + " tokens, more than this server accepts (" +
               std::to_string(limit) + " tokens; the context holds " + std::to_string(ctx) + ")",
           "invalid_request_error", "context_length_exceeded", chat ? "messages" : "prompt"};
    return nullptr;
  }
  GenerateOptions& o = p->options;
  o.sampling = r.sampling;
  o.max_tokens = r.max_tokens;
  o.stop_strings = r.stop;
  o.logprobs = r.logprobs;
  o.checkpoint = true;             // the next request of this conversation may diverge far back (thoughts dropped)
  o.render_control_tokens = chat;  // the chat parser needs the thought / tool-call markers
  if (r.tool_choice == ToolChoice::kNone && tool_call_token >= 0) o.sampling.suppress.push_back(tool_call_token);
  if (!p->forced.empty()) {
    // A forced call: its name and arguments (matching the tool's parameters) are constrained too.
    const bool named = p->forced.back() == '{';
    std::vector<ToolCallConstraint::Tool> tools;
    for (const ToolDeclaration& t : r.tools) {
      const std::string name = t.function.value("name", std::string());
      if (named && name != (r.tool_choice == ToolChoice::kNamed ? r.tool_name : name)) continue;
      const json params = t.function.value("parameters", json());
      auto schema = params.is_object() ? JsonSchema::compile(params, JsonSchema::Syntax::kGemma)
                                       : Result<JsonSchema>(Error{"no parameters"});
      // A schema beyond the supported subset still gets a well-formed call (any object).
      tools.push_back({name, schema ? std::move(schema).value() : JsonSchema::any_object(JsonSchema::Syntax::kGemma)});
      if (named) break;
    }
    p->constraint = std::make_unique<ToolCallConstraint>(std::move(tools), named, texts);
    o.constraint = p->constraint.get();
  } else if (r.response_format != ResponseFormat::kText) {
    auto schema = r.response_format == ResponseFormat::kJsonObject ? Result<JsonSchema>(JsonSchema::any_object())
                                                                   : JsonSchema::compile(r.json_schema);
    if (!schema) {
      err = {400, "response_format: " + schema.error().message, "invalid_request_error", "unsupported_schema",
             "response_format.json_schema.schema"};
      return nullptr;
    }
    p->constraint = std::make_unique<JsonConstraint>(std::move(schema).value(), texts);
    o.constraint = p->constraint.get();
  }
  p->env = {random_id(chat ? "chatcmpl-" : "cmpl-"), now_seconds(), opt.model_name};
  p->watch = std::make_unique<ConnectionWatch>(req.remote_addr, req.remote_port, req.local_port);
  return p;
}

Outcome HttpServer::Impl::outcome(const Prepared& p, const JobResult& r, const StreamSplitter::Delta& parts) const {
  Outcome o;
  o.content = p.request.chat ? parts.content : r.generation.text;
  o.reasoning = parts.reasoning;
  o.tool_calls = parts.tool_calls;
  o.finish_reason = finish_reason(r.generation.reason, !o.tool_calls.empty());
  o.prompt_tokens = static_cast<int64_t>(p.prompt.size());
  o.cached_tokens = r.reused;
  o.completion_tokens = static_cast<int64_t>(r.generation.tokens.size());
  o.prompt_seconds = r.prompt_seconds;
  o.decode_seconds = r.generation.decode_seconds;
  o.with_logprobs = p.request.logprobs >= 0;
  o.logprobs = r.generation.logprobs;
  return o;
}

void HttpServer::Impl::generate(const httplib::Request& req, httplib::Response& res, bool chat) {
  ApiError err;
  auto p = prepare(req, chat, err);
  if (!p) return send_error(res, err);
  if (scheduler.stats().waiting >= opt.scheduler.max_queue) {
    return send_error(res, server_error("the server is busy; try again later", 429, "server_busy", "queue_full"));
  }
  if (p->request.stream) {
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider("text/event-stream", [this, p](size_t, httplib::DataSink& sink) {
      stream(p, sink);
      return true;
    });
    return;
  }
  DisconnectMonitor::Registration watching(monitor, *p->watch, p->cancel);
  Job job{p->prompt, p->options, nullptr, &p->cancel, p->media};
  const JobResult r = scheduler.run(job);
  if (r.status == JobResult::Status::kBusy)
    return send_error(res, server_error(r.error, 429, "server_busy", "queue_full"));
  if (r.status == JobResult::Status::kError) return send_error(res, server_error(r.error));
  if (r.status == JobResult::Status::kCancelled) {
    return send_error(res, server_error("cancelled: the client closed the connection", 499, "cancelled"));
  }
  StreamSplitter splitter;
  StreamSplitter::Delta parts;
  if (chat) {
    parts = splitter.push(p->forced + r.generation.text);
    StreamSplitter::Delta rest = splitter.finish();
    parts.content += rest.content;
    parts.reasoning += rest.reasoning;
    parts.tool_calls.insert(parts.tool_calls.end(), rest.tool_calls.begin(), rest.tool_calls.end());
  }
  const Outcome o = outcome(*p, r, parts);
  send_json(res, 200, chat ? chat_response(p->env, o, tok) : completion_response(p->env, o, tok));
}

void HttpServer::Impl::stream(const std::shared_ptr<Prepared>& p, httplib::DataSink& sink) {
  DisconnectMonitor::Registration watching(monitor, *p->watch, p->cancel);
  const bool chat = p->request.chat, usage = p->request.include_usage;
  auto send = [&](json j) {
    if (usage && j.contains("choices")) j["usage"] = nullptr;
    const std::string s = sse_event(j);
    if (!sink.write(s.data(), s.size())) p->cancel = true;  // the client is gone
    return !p->cancel.load();
  };
  StreamSplitter splitter;
  int calls = 0;
  // Log-probabilities of tokens generated since the last chunk ride on the next chunk sent.
  const bool with_logprobs = p->request.logprobs >= 0;
  std::vector<TokenLogprob> pending;
  int64_t text_offset = 0;  // completions: bytes of text already streamed
  auto take_logprobs = [&]() -> json {
    if (!with_logprobs || pending.empty()) return nullptr;
    json j = chat ? chat_logprobs_json(pending, tok) : completion_logprobs_json(pending, tok, text_offset);
    pending.clear();
    return j;
  };
  auto emit = [&](const StreamSplitter::Delta& d) {
    bool ok = true;
    if (!d.reasoning.empty()) {
      ok = send(chat_chunk(p->env, {{"reasoning_content", d.reasoning}}, nullptr, take_logprobs())) && ok;
    }
    if (!d.content.empty()) ok = send(chat_chunk(p->env, {{"content", d.content}}, nullptr, take_logprobs())) && ok;
    for (const auto& call : d.tool_calls) {
      json tc = tool_calls_json({call})[0];
      tc["index"] = calls++;
      ok = send(chat_chunk(p->env, {{"tool_calls", json::array({tc})}}, nullptr, take_logprobs())) && ok;
    }
    return ok;
  };
  if (chat) {
    send(chat_chunk(p->env, {{"role", "assistant"}, {"content", ""}}, nullptr));
    splitter.push(p->forced);
  }
  Job job{p->prompt, p->options, nullptr, &p->cancel, p->media};
  if (with_logprobs) job.options.on_logprob = [&](const TokenLogprob& e) { pending.push_back(e); };
  job.on_text = [&](std::string_view piece) {
    if (chat) return emit(splitter.push(piece));
    json lp = take_logprobs();
    text_offset += static_cast<int64_t>(piece.size());
    return send(completion_chunk(p->env, std::string(piece), nullptr, std::move(lp)));
  };
  const JobResult r = scheduler.run(job);
  if (r.status == JobResult::Status::kCancelled || p->cancel.load()) return sink.done();
  if (r.status != JobResult::Status::kOk) {
    const ApiError e = r.status == JobResult::Status::kBusy ? server_error(r.error, 429, "server_busy", "queue_full")
                                                            : server_error(r.error);
    send(error_body(e));
  } else {
    StreamSplitter::Delta parts;
    if (chat) {
      parts = splitter.finish();
      emit(parts);
    }
    Outcome o = outcome(*p, r, parts);
    o.finish_reason = finish_reason(r.generation.reason, calls > 0);
    json last = chat ? chat_chunk(p->env, json::object(), o.finish_reason.c_str(), take_logprobs())
                     : completion_chunk(p->env, "", o.finish_reason.c_str(), take_logprobs());
    last["timings"] = timings_json(o);  // an extension (the chat page shows tokens/s); clients ignore it
    send(std::move(last));
    if (usage) {
      json u = chat ? chat_chunk(p->env, json::object(), nullptr) : completion_chunk(p->env, "", nullptr);
      u["choices"] = json::array();
      u["usage"] = usage_json(o);
      u["timings"] = timings_json(o);
      const std::string s = sse_event(u);
      sink.write(s.data(), s.size());
    }
  }
  static constexpr std::string_view kDone = "data: [DONE]\n\n";
  sink.write(kDone.data(), kDone.size());
  sink.done();
}

}  // namespace pocket::server
