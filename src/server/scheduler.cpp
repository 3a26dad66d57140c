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

struct Scheduler::Ticket {
  const Job* job = nullptr;
  std::chrono::steady_clock::time_point submitted;
  bool done = false;
  JobResult result;
};

struct Scheduler::Running {
  Ticket* ticket = nullptr;
  Slot* slot = nullptr;
  std::unique_ptr<Generator> gen;
  int32_t next = 0;  // token to feed in the next decode step
  int64_t reused = 0;
  double prompt_seconds = 0;
};

Scheduler::Scheduler(Engine& engine, const Tokenizer& tokenizer, SchedulerOptions options)
    : engine_(engine), tokenizer_(tokenizer), options_(options) {
  options_.slots = std::max(1, options_.slots);
  options_.prefill_slice = std::max(1, options_.prefill_slice);
  slots_.resize(static_cast<size_t>(options_.slots));
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status Scheduler::start() {
  SessionOptions so;
  so.context_size = options_.context;
  so.max_batch = options_.max_batch;
  auto s = engine_.new_session(so);
  if (!s) return s.error();
  slots_[0].session = std::move(s).value();
  context_ = slots_[0].session->context_size();
  thread_ = std::thread([this] { worker(); });
  return {};
}

Scheduler::Slot* Scheduler::choose_slot(const std::vector<int32_t>& prompt, std::string& error) {
  // Among free slots: the longest shared prefix wins; then an empty slot; then the least recently used.
  Slot* best = nullptr;
  size_t best_prefix = 0;
  for (Slot& s : slots_) {
    if (s.busy) continue;
    const size_t p = s.session ? common_prefix(s.session->history(), prompt) : 0;
    if (!best || p > best_prefix ||
        (p == best_prefix && (!s.session || (best->session && s.last_used < best->last_used)))) {
      best = &s;
      best_prefix = p;
    }
  }
  if (!best) return nullptr;
  if (!best->session) {
    SessionOptions so;
    so.context_size = context_;
    so.max_batch = options_.max_batch;
    auto s = engine_.new_session(so);
    if (!s) {
      error = s.error().message;
      return nullptr;
    }
    best->session = std::move(s).value();
  }
  best->last_used = ++clock_;
  return best;
}

JobResult Scheduler::run(const Job& job) {
  Ticket t;
  t.job = &job;
  t.submitted = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_ || static_cast<int>(waiting_.size()) >= options_.max_queue) {
    JobResult r;
    r.status = JobResult::Status::kBusy;
    r.error = stopping_
                  ? "the server is shutting down"
                  : "the server is busy: " + std::to_string(waiting_.size()) + " requests are waiting; try again later";
    return r;
  }
  waiting_.push_back(&t);
  stats_.waiting = static_cast<int>(waiting_.size());
  cv_.notify_all();
  while (!t.done) {
    // A request still in the queue whose client left is dropped here; once admitted the worker sees
    // the cancel flag.
    if (job.cancel && job.cancel->load()) {
      auto it = std::find(waiting_.begin(), waiting_.end(), &t);
      if (it != waiting_.end()) {
        waiting_.erase(it);
        stats_.waiting = static_cast<int>(waiting_.size());
        ++stats_.cancelled;
        JobResult r;
        r.status = JobResult::Status::kCancelled;
        return r;
      }
    }
    cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
  return std::move(t.result);
}

void Scheduler::complete(Ticket& t, JobResult r) {
  r.queue_seconds = std::max(0.0, seconds_since(t.submitted) - r.prompt_seconds - r.generation.decode_seconds);
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.jobs;
  if (r.status == JobResult::Status::kCancelled) ++stats_.cancelled;
  if (r.status == JobResult::Status::kOk || r.status == JobResult::Status::kCancelled) {
    stats_.prompt_tokens += static_cast<int64_t>(t.job->prompt.size());
    stats_.reused_tokens += r.reused;
    stats_.generated_tokens += static_cast<int64_t>(r.generation.tokens.size());
    stats_.prompt_seconds += r.prompt_seconds;
    stats_.decode_seconds += r.generation.decode_seconds;
  }
  t.result = std::move(r);
  t.done = true;
  cv_.notify_all();
}

std::unique_ptr<Scheduler::Running> Scheduler::admit(Ticket& t) {
  const Job& job = *t.job;
  JobResult r;
  std::string error;
  Slot* slot = choose_slot(job.prompt, error);
  if (!slot) {
    r.status = JobResult::Status::kError;
    r.error = error.empty() ? "no free slot" : error;
    complete(t, std::move(r));
    return nullptr;
  }
  Session& s = *slot->session;
  if (job.prompt.empty() || static_cast<int64_t>(job.prompt.size()) >= s.context_size()) {
    r.status = JobResult::Status::kError;
    r.error = "the prompt does not fit in the context";
    complete(t, std::move(r));
    return nullptr;
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto run = std::make_unique<Running>();
  run->ticket = &t;
  run->slot = slot;
  run->reused = s.reuse_prefix(job.prompt, job.media);
  if (s.last_reuse_reset()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.cache_resets;
  }
  // Long prompts in slices with a cancellation check between them; the Generator evaluates the last
  // slice (so a short prompt is evaluated in one batch, exactly as `pocket run` does).
  const size_t slice = static_cast<size_t>(options_.prefill_slice);
  for (size_t pos = static_cast<size_t>(run->reused); job.prompt.size() - pos > slice;) {
    if (job.cancel && job.cancel->load()) {
      r.status = JobResult::Status::kCancelled;
      r.reused = run->reused;
      r.prompt_seconds = seconds_since(t0);
      complete(t, std::move(r));
      return nullptr;
    }
    const int64_t end = slice_end_for_media(job.media, static_cast<int64_t>(pos + slice));
    if (end >= static_cast<int64_t>(job.prompt.size())) break;
    const auto media = media_slice(job.media, static_cast<int64_t>(pos), end, engine_.info().n_embd);
    auto out = s.evaluate(std::span<const int32_t>(job.prompt).subspan(pos, static_cast<size_t>(end) - pos), media);
    if (!out) {
      s.reset();
      r.status = JobResult::Status::kError;
      r.error = out.error().message;
      complete(t, std::move(r));
      return nullptr;
    }
    pos = static_cast<size_t>(end);
  }
  run->gen = std::make_unique<Generator>(s, tokenizer_, job.options, job.on_text, job.cancel);
  auto logits = run->gen->prefill(job.prompt, job.media);
  if (!logits) {
    s.reset();
    r.status = JobResult::Status::kError;
    r.error = logits.error().message;
    complete(t, std::move(r));
    return nullptr;
  }
  run->prompt_seconds = seconds_since(t0);
  const std::optional<int32_t> next = run->gen->advance(*logits);
  if (!next) {
    r.generation = run->gen->finish();
    r.reused = run->reused;
    r.prompt_seconds = run->prompt_seconds;
    if (r.generation.reason == StopReason::kCancelled) r.status = JobResult::Status::kCancelled;
    complete(t, std::move(r));
    return nullptr;
  }
  run->next = *next;
  slot->busy = true;
  return run;
}

void Scheduler::worker() {
  std::vector<std::unique_ptr<Running>> running;
  auto finish = [&](Running& run, JobResult::Status status, std::string error) {
    JobResult r;
    r.generation = run.gen->finish();
    r.reused = run.reused;
    r.prompt_seconds = run.prompt_seconds;
    r.status = status;
    r.error = std::move(error);
    if (status == JobResult::Status::kOk && r.generation.reason == StopReason::kCancelled) {
      r.status = JobResult::Status::kCancelled;
    }
    run.slot->busy = false;
    complete(*run.ticket, std::move(r));
  };
  for (;;) {
    // Admit waiting jobs while slots are free.
    for (;;) {
      Ticket* t = nullptr;
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (stopping_) break;
        if (running.empty()) cv_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
        if (stopping_ || waiting_.empty() || static_cast<int>(running.size()) >= options_.slots) break;
        t = waiting_.front();
        waiting_.pop_front();
        stats_.waiting = static_cast<int>(waiting_.size());
      }
      std::unique_ptr<Running> run;
      try {
        run = admit(*t);
      } catch (const std::exception& e) {
        JobResult r;
        r.status = JobResult::Status::kError;
        r.error = std::string("internal error: ") + e.what();
        complete(*t, std::move(r));
      }
      if (run) running.push_back(std::move(run));
      std::lock_guard<std::mutex> lock(mu_);
      stats_.running = static_cast<int>(running.size());
      stats_.active = !running.empty();
    }
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping = stopping_;
    }
    if (stopping) {
      for (auto& run : running) finish(*run, JobResult::Status::kCancelled, "the server is shutting down");
      std::lock_guard<std::mutex> lock(mu_);
      for (Ticket* t : waiting_) {
        t->result.status = JobResult::Status::kBusy;
        t->result.error = "the server is shutting down";
        t->done = true;
      }
      waiting_.clear();
      cv_.notify_all();
      return;
    }
    if (running.empty()) continue;

    // One decode step for every running job.
    std::vector<Session*> sessions;
    std::vector<int32_t> tokens;
    for (auto& run : running) {
      sessions.push_back(run->slot->session.get());
      tokens.push_back(run->next);
    }
    auto out = engine_.decode_batch(sessions, tokens);
    std::vector<std::unique_ptr<Running>> still;
    for (size_t i = 0; i < running.size(); ++i) {
      Running& run = *running[i];
      if (!out) {
        run.slot->session->reset();
        finish(run, JobResult::Status::kError, out.error().message);
        continue;
      }
      const std::optional<int32_t> next = run.gen->advance((*out)[i]);
      if (!next) {
        finish(run, JobResult::Status::kOk, "");
        continue;
      }
      run.next = *next;
      still.push_back(std::move(running[i]));
    }
    running = std::move(still);
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.decode_steps;
    stats_.decode_step_tokens += static_cast<int64_t>(tokens.size());
    stats_.running = static_cast<int>(running.size());
    stats_.active = !running.empty();
  }
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace pocket::server
