// Runs generation requests over one Engine for `pocket serve`, with continuous batching.
//
// A worker thread owns the engine. Up to `slots` requests generate at the same time: each decode step
// runs all of them in one batched forward pass (Engine::decode_batch: the weights are read once per
// step, whatever the number of requests), and a request that finishes frees its slot for the next one
// at once. A newly admitted request's prompt is evaluated alone, in slices with a cancellation check
// between them, between two decode steps. Requests beyond the slots wait in a bounded queue.
//
// Each slot is a session with its own KV cache that outlives its request: a request goes to the free
// slot whose evaluated tokens share the longest prefix with its prompt (else the least recently used),
// so a chat that sends its whole history again only evaluates the new turn. A client that goes away
// stops its request, also while it is waiting or its prompt is being read.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pocket/engine.h"
#include "runtime/generation.h"

namespace pocket::server {

struct SchedulerOptions {
  int slots = 1;
  int context = 0;     // tokens per slot (≤ 0: the engine's default)
  int max_queue = 32;  // requests waiting beyond this are refused (HTTP 429)
  int prefill_slice = 256;
  int max_batch = 512;  // per forward pass; ≥ the image token budget (a bidirectional image is one pass)
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
  bool active = false;             // any request generating
  int running = 0;                 // requests generating now (the decode batch size)
  int64_t cache_resets = 0;        // prompts that shared a prefix but had to be evaluated from scratch
  int64_t decode_steps = 0;        // batched decode steps run
  int64_t decode_step_tokens = 0;  // tokens they produced (÷ steps = the mean batch size)
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
  ~Scheduler();  // finishes running requests as cancelled, refuses waiting ones, joins the worker
  // Creates the first slot (checks the context size against the model) and starts the worker.
  Status start();
  int context_size() const { return context_; }

  // Waits for its turn and for the generation to finish; callbacks run on the worker thread. Never
  // throws.
  JobResult run(const Job& job);
  SchedulerStats stats() const;

 private:
  struct Slot {
    std::unique_ptr<Session> session;
    uint64_t last_used = 0;
    bool busy = false;
  };
  struct Ticket;   // a submitted job and its result
  struct Running;  // a job generating on a slot
  Slot* choose_slot(const std::vector<int32_t>& prompt, std::string& error);
  void worker();
  // Prefills a newly admitted job; returns it running, or completes it (error, cancel, instant stop).
  std::unique_ptr<Running> admit(Ticket& t);
  void complete(Ticket& t, JobResult r);

  Engine& engine_;
  const Tokenizer& tokenizer_;
  SchedulerOptions options_;
  int context_ = 0;
  std::vector<Slot> slots_;  // touched by the worker only (after start)
  uint64_t clock_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // the worker waits for jobs; run() waits for its result
  std::deque<Ticket*> waiting_;
  bool stopping_ = false;
  SchedulerStats stats_;
  std::thread thread_;
};

}  // namespace pocket::server
