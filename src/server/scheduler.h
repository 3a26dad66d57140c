// Runs generation requests over one Engine for `pocket serve`.
//
// Requests are served one at a time, first come first served (the engine's thread pool is shared, and
// on a CPU one generation already uses every core); the others wait in a bounded queue. A small pool of
// sessions ("slots", each with its own KV cache) keeps recent conversations: a request runs on the slot
// whose evaluated tokens share the longest prefix with its prompt (else the least recently used), so a
// chat that sends its whole history again only evaluates the new turn. The prompt is evaluated in
// slices with a cancellation check between them, so a client that goes away stops its request quickly,
// also while it is waiting or still reading a long prompt.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pocket/engine.h"
#include "runtime/generation.h"

namespace pocket::server {

struct SchedulerOptions {
  int slots = 1;
  int context = 0;     // tokens per slot (≤ 0: the engine's default)
  int max_queue = 32;  // requests waiting beyond this are refused (HTTP 429)
  int prefill_slice = 256;
};

struct Job {
  std::vector<int32_t> prompt;
  GenerateOptions options;
  TextCallback on_text;
  const std::atomic<bool>* cancel = nullptr;
  std::vector<MediaInput> media;  // soft-token blocks of `prompt` (offsets index it)
};

struct JobResult {
  enum class Status { kOk, kBusy, kCancelled, kError };
  Status status = Status::kOk;
  std::string error;
  GenerateResult generation;
  int64_t reused = 0;  // prompt tokens already in the slot's cache
  double prompt_seconds = 0;
  double queue_seconds = 0;
};

struct SchedulerStats {
  int waiting = 0;
  bool active = false;
  int64_t jobs = 0;
  int64_t cancelled = 0;
  int64_t prompt_tokens = 0;  // all prompt tokens of finished jobs
  int64_t reused_tokens = 0;  // of which were reused from a cache
  int64_t generated_tokens = 0;
  double prompt_seconds = 0;
  double decode_seconds = 0;
};

class Scheduler {
 public:
  Scheduler(Engine& engine, const Tokenizer& tokenizer, SchedulerOptions options);
  ~Scheduler();
  // Creates the first slot (checks the context size against the model). Call once before run().
  Status start();
  int context_size() const { return context_; }

  // Waits for its turn, then runs the job. Never throws.
  JobResult run(const Job& job);
  SchedulerStats stats() const;

 private:
  struct Slot {
    std::unique_ptr<Session> session;
    uint64_t last_used = 0;
  };
  Slot& choose_slot(const std::vector<int32_t>& prompt, std::string& error);
  JobResult execute(const Job& job);

  Engine& engine_;
  const Tokenizer& tokenizer_;
  SchedulerOptions options_;
  int context_ = 0;
  std::vector<Slot> slots_;
  uint64_t clock_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<const Job*> waiting_;
  bool busy_ = false;
  SchedulerStats stats_;
};

}  // namespace pocket::server
