#include "server/scheduler.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "runtime/media_prompt.h"

namespace pocket::server {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

Scheduler::Scheduler(Engine& engine, const Tokenizer& tokenizer, SchedulerOptions options)
    : engine_(engine), tokenizer_(tokenizer), options_(options) {
  options_.slots = std::max(1, options_.slots);
  options_.prefill_slice = std::max(1, options_.prefill_slice);
  slots_.resize(static_cast<size_t>(options_.slots));
}

Scheduler::~Scheduler() = default;

Status Scheduler::start() {
  SessionOptions so;
  so.context_size = options_.context;
  auto s = engine_.new_session(so);
  if (!s) return s.error();
  slots_[0].session = std::move(s).value();
  context_ = slots_[0].session->context_size();
  return {};
}

Scheduler::Slot& Scheduler::choose_slot(const std::vector<int32_t>& prompt, std::string& error) {
  // The longest shared prefix wins; then an empty slot; then the least recently used.
  Slot* best = nullptr;
  size_t best_prefix = 0;
  for (Slot& s : slots_) {
    const size_t p = s.session ? common_prefix(s.session->history(), prompt) : 0;
    if (!best || p > best_prefix ||
        (p == best_prefix && (!s.session || (best->session && s.last_used < best->last_used)))) {
      best = &s;
      best_prefix = p;
    }
  }
  if (!best->session) {
    SessionOptions so;
    so.context_size = context_;
    auto s = engine_.new_session(so);
    if (!s) {
      error = s.error().message;
    } else {
      best->session = std::move(s).value();
    }
  }
  best->last_used = ++clock_;
  return *best;
}

JobResult Scheduler::run(const Job& job) {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  if (static_cast<int>(waiting_.size()) >= options_.max_queue) {
    JobResult r;
    r.status = JobResult::Status::kBusy;
    r.error = "the server is busy: " + std::to_string(waiting_.size()) + " requests are waiting; try again later";
    return r;
  }
  waiting_.push_back(&job);
  stats_.waiting = static_cast<int>(waiting_.size());
  while (busy_ || waiting_.front() != &job) {
    if (job.cancel && job.cancel->load()) {
      waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &job));
      stats_.waiting = static_cast<int>(waiting_.size());
      ++stats_.cancelled;
      cv_.notify_all();
      JobResult r;
      r.status = JobResult::Status::kCancelled;
      return r;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
  waiting_.pop_front();
  busy_ = true;
  stats_.waiting = static_cast<int>(waiting_.size());
  stats_.active = true;
  lock.unlock();

  JobResult r;
  try {
    r = execute(job);
  } catch (const std::exception& e) {
    r = {};
    r.status = JobResult::Status::kError;
    r.error = std::string("internal error: ") + e.what();
  }
  r.queue_seconds = seconds_since(t0) - r.prompt_seconds - r.generation.decode_seconds;

  lock.lock();
  busy_ = false;
  stats_.active = false;
  ++stats_.jobs;
  if (r.status == JobResult::Status::kCancelled) ++stats_.cancelled;
  if (r.status == JobResult::Status::kOk || r.status == JobResult::Status::kCancelled) {
    stats_.prompt_tokens += static_cast<int64_t>(job.prompt.size());
    stats_.reused_tokens += r.reused;
    stats_.generated_tokens += static_cast<int64_t>(r.generation.tokens.size());
    stats_.prompt_seconds += r.prompt_seconds;
    stats_.decode_seconds += r.generation.decode_seconds;
  }
  cv_.notify_all();
  return r;
}

JobResult Scheduler::execute(const Job& job) {
  JobResult r;
  std::string error;
  Slot& slot = choose_slot(job.prompt, error);
  if (!slot.session) {
    r.status = JobResult::Status::kError;
    r.error = error;
    return r;
  }
  Session& s = *slot.session;
  if (job.prompt.empty() || static_cast<int64_t>(job.prompt.size()) >= s.context_size()) {
    r.status = JobResult::Status::kError;
    r.error = "the prompt does not fit in the context";
    return r;
  }
  const auto t0 = std::chrono::steady_clock::now();
  r.reused = s.reuse_prefix(job.prompt, job.media);
  // Long prompts in slices with a cancellation check between them; generate() evaluates the last
  // slice (so a short prompt is evaluated in one batch, exactly as `pocket run` does).
  const size_t slice = static_cast<size_t>(options_.prefill_slice);
  for (size_t pos = static_cast<size_t>(r.reused); job.prompt.size() - pos > slice;) {
    if (job.cancel && job.cancel->load()) {
      r.status = JobResult::Status::kCancelled;
      r.prompt_seconds = seconds_since(t0);
      return r;
    }
    const int64_t end = slice_end_for_media(job.media, static_cast<int64_t>(pos + slice));
    if (end >= static_cast<int64_t>(job.prompt.size())) break;  // the rest goes to generate()
    const size_t n = static_cast<size_t>(end) - pos;
    const auto media = media_slice(job.media, static_cast<int64_t>(pos), end, engine_.info().n_embd);
    auto out = s.evaluate(std::span<const int32_t>(job.prompt).subspan(pos, n), media);
    if (!out) {
      s.reset();
      r.status = JobResult::Status::kError;
      r.error = out.error().message;
      return r;
    }
    pos += n;
  }
  const double sliced = seconds_since(t0);
  auto g = generate(s, tokenizer_, job.prompt, job.media, job.options, job.on_text, job.cancel);
  if (!g) {
    s.reset();
    r.status = JobResult::Status::kError;
    r.error = g.error().message;
    r.prompt_seconds = sliced;
    return r;
  }
  r.generation = std::move(g).value();
  r.prompt_seconds = sliced + r.generation.prefill_seconds;
  if (r.generation.reason == StopReason::kCancelled) r.status = JobResult::Status::kCancelled;
  return r;
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace pocket::server
