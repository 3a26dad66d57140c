#include "kernels/thread_pool.h"

#include <algorithm>

namespace pocket {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Roughly 50-100 µs of spinning before a worker sleeps: enough to catch the next job of a decode step
// on an idle machine, short enough not to steal the core from other work when the machine is busy.
constexpr int kSpinIterations = 2000;

}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  n_threads_ = n_threads;
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_cv_.notify_all();
  }
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_chunks(int thread_index) {
  for (;;) {
    const int64_t begin = next_.fetch_add(chunk_);
    if (begin >= n_) break;
    (*fn_)(begin, std::min(n_, begin + chunk_), thread_index);
  }
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (generation_.load() == seen && !stop_.load()) {
      if (++spins < kSpinIterations) {
        cpu_relax();
        continue;
      }
      // Sleep. sleeping_ is raised before the predicate is checked under the lock, and parallel_for
      // bumps generation_ before it reads sleeping_, so a wake-up cannot be lost.
      sleeping_.fetch_add(1);
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_cv_.wait(lock, [&] { return generation_.load() != seen || stop_.load(); });
      }
      sleeping_.fetch_sub(1);
    }
    if (stop_.load()) return;
    seen = generation_.load();
    run_chunks(index);
    pending_.fetch_sub(1);
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (n_threads_ == 1 || n <= grain) {
    fn(0, n, 0);
    return;
  }
  // A few chunks per thread balance uneven work without much scheduling overhead.
  const int64_t target_chunks = int64_t{n_threads_} * 4;
  fn_ = &fn;
  n_ = n;
  chunk_ = std::max(grain, (n + target_chunks - 1) / target_chunks);
  next_.store(0);
  pending_.store(n_threads_ - 1);
  generation_.fetch_add(1);
  if (sleeping_.load() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    wake_cv_.notify_all();
  }
  run_chunks(0);
  // Wait for the workers; yield now and then in case one of them was descheduled.
  for (int spins = 0; pending_.load() != 0; ++spins) {
    if (spins % 256 == 255) {
      std::this_thread::yield();
    } else {
      cpu_relax();
    }
  }
  fn_ = nullptr;
}

}  // namespace pocket
