// `pocket bench`: prefill and decode speed, time to first token from a cold process, and peak RSS,
// over several repetitions (median and spread). `--synthetic VARIANT` benchmarks a random-weight model
// of a real Gemma 4 shape, generated once into a cache folder: speed known before any download.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli_util.h"
#include "commands.h"
#include "model/gemma4_model.h"
#include "model/weight_residency.h"
#include "pocket/engine.h"
#include "progress.h"
#include "synth/synthetic_model.h"

namespace pocket::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchArgs {
  std::string model;
  std::string synthetic;
  std::string type = "q4_0";
  std::string cache_dir;
  int prompt = 512;
  int gen = 128;
  int threads = 2;
  int reps = 3;
  bool json = false;
  bool ttft_probe = false;  // internal: the cold-process child
  bool bandwidth = false;
  std::string weights = "load";
};

struct Stats {
  double median = 0, min = 0, max = 0;
};

Stats stats(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return {med, v.front(), v.back()};
}

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// STREAM-like read bandwidth: `threads` threads sum disjoint slices of a 1 GiB buffer, best of 5. The
// buffer is allocated like the resident weights (WeightArena: 2 MiB aligned, huge pages advised), so the
// bound compares like with like (4 KiB pages add a TLB miss per page to the plain std::vector read).
double read_bandwidth_gbs(int threads) {
  const size_t n = (size_t{1} << 30) / sizeof(uint64_t);
  auto arena = WeightArena::create(n * sizeof(uint64_t));
  if (!arena) return 0;
  uint64_t* buf = reinterpret_cast<uint64_t*>(arena->data());
  std::fill(buf, buf + n, uint64_t{1});
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    std::vector<std::thread> pool;
    std::vector<uint64_t> sums(static_cast<size_t>(threads));
    const auto t0 = Clock::now();
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        const size_t b = n * static_cast<size_t>(t) / static_cast<size_t>(threads);
        const size_t e = n * static_cast<size_t>(t + 1) / static_cast<size_t>(threads);
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t i = b; i + 4 <= e; i += 4) {
          s0 += buf[i], s1 += buf[i + 1], s2 += buf[i + 2], s3 += buf[i + 3];
        }
        sums[static_cast<size_t>(t)] = s0 + s1 + s2 + s3;
      });
    }
    for (auto& th : pool) th.join();
    const double secs = seconds(t0, Clock::now());
    uint64_t total = 0;
    for (uint64_t v : sums) total += v;
    if (total == 0) return 0;  // keeps the loads from being optimised away
    best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / secs / 1e9);
  }
  return best;
}

int64_t peak_rss_bytes() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<int64_t>(ru.ru_maxrss) * 1024;
}

std::string default_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/pocket/synthetic";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/pocket/synthetic";
  return "/tmp/pocket-synthetic";
}

// Random token ids away from the control-token range, reproducible.
std::vector<int32_t> random_tokens(int n, int n_vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> d(std::min(1000, n_vocab - 1), n_vocab - 1);
  std::vector<int32_t> t(static_cast<size_t>(n));
  t[0] = 2;  // <bos>
  for (int i = 1; i < n; ++i) t[static_cast<size_t>(i)] = d(rng);
  return t;
}

// Child mode: load, evaluate a short prompt, print the seconds since this process started.
int run_ttft_probe(const BenchArgs& a, Clock::time_point process_start) {
  auto engine = Engine::load(a.model, {a.threads});
  if (!engine) return report_error(engine.error().message);
  SessionOptions so;
  so.context_size = 64;
  auto s = (*engine)->new_session(so);
  if (!s) return report_error(s.error().message);
  const auto toks = random_tokens(8, (*engine)->info().n_vocab, 7);
  auto r = (*s)->evaluate(toks);
  if (!r) return report_error(r.error().message);
  std::printf("%.6f\n", seconds(process_start, Clock::now()));
  return 0;
}

// Time to first token of a fresh process running `pocket bench --ttft-probe`.
double cold_ttft(const BenchArgs& a) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const auto t0 = Clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    const std::string threads = std::to_string(a.threads);
    execl("/proc/self/exe", "pocket", "bench", "--ttft-probe", "-m", a.model.c_str(), "-t", threads.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  char buf[64] = {};
  const ssize_t got = read(fds[0], buf, sizeof buf - 1);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return seconds(t0, Clock::now());
}

int run_bench(BenchArgs a) {
  const auto process_start = Clock::now();
  if (a.ttft_probe) return run_ttft_probe(a, process_start);
  if (a.bandwidth && a.model.empty() && a.synthetic.empty()) {
    const double bw = read_bandwidth_gbs(a.threads);
    std::printf("read bandwidth %.1f GB/s (%d threads)\n", bw, a.threads);
    if (a.json) std::printf("{\"read_bandwidth_gbs\":%.3f,\"threads\":%d}\n", bw, a.threads);
    return 0;
  }
  if (!a.synthetic.empty()) {
    const std::string dir = a.cache_dir.empty() ? default_cache_dir() : a.cache_dir;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    a.model = dir + "/gemma4-" + a.synthetic + "-" + a.type + ".gguf";
    if (!std::filesystem::exists(a.model)) {
      std::fprintf(stderr, "pocket bench: writing a random-weight %s (%s) model to %s (once)\n", a.synthetic.c_str(),
                   a.type.c_str(), a.model.c_str());
      synth::SynthOptions o;
      o.variant = a.synthetic;
      o.full = true;
      o.type = a.type;
      ProgressBar bar(isatty(STDERR_FILENO) != 0);
      Status st = synth::write_synthetic_model(o, a.model, [&](uint64_t d, uint64_t t) { bar.update(d, t); });
      if (!st) return report_error(st.message());
    }
  }
  if (a.model.empty()) return report_error("give a model (-m FILE) or --synthetic VARIANT");
  if (a.prompt < 1 || a.gen < 1 || a.reps < 1) return report_error("-p, -n and -r must be >= 1");

  auto engine = Engine::load(a.model, {a.threads, a.weights});
  if (!engine) return report_error(engine.error().message);
  const int V = (*engine)->info().n_vocab;
  std::vector<double> prefill, decode, ttft;
  for (int r = 0; r < a.reps; ++r) {
    // Prefill: one batch of a.prompt random tokens.
    SessionOptions so;
    so.context_size = std::max(a.prompt, a.gen + 1);
    so.max_batch = a.prompt;
    auto s = (*engine)->new_session(so);
    if (!s) return report_error(s.error().message);
    const auto toks = random_tokens(a.prompt, V, 1000 + static_cast<uint64_t>(r));
    auto t0 = Clock::now();
    auto out = (*s)->evaluate(toks);
    if (!out) return report_error(out.error().message);
    prefill.push_back(a.prompt / seconds(t0, Clock::now()));
    // Decode: a.gen greedy tokens from an empty context (after <bos>).
    (*s)->reset();
    int32_t tok = 2;
    t0 = Clock::now();
    for (int i = 0; i < a.gen; ++i) {
      auto l = (*s)->evaluate(std::span<const int32_t>(&tok, 1));
      if (!l) return report_error(l.error().message);
      tok = static_cast<int32_t>(std::max_element(l->begin(), l->end()) - l->begin());
    }
    decode.push_back(a.gen / seconds(t0, Clock::now()));
    const double t = cold_ttft(a);
    if (t > 0) ttft.push_back(t);
    if (!a.json) {
      std::fprintf(stderr, "rep %d: prefill %.1f tok/s, decode %.1f tok/s, ttft %.3f s\n", r + 1, prefill.back(),
                   decode.back(), t);
    }
  }
  const Stats p = stats(prefill), d = stats(decode), f = stats(ttft);
  const int64_t rss = peak_rss_bytes();
  const auto& info = (*engine)->info();
  std::printf("model      %s (%d layers, d_model %d, vocab %d)\n", a.model.c_str(), info.n_layer, info.n_embd,
              info.n_vocab);
  const Gemma4Model& model = (*engine)->model();
  std::printf("threads    %d, repetitions %d\n", a.threads, a.reps);
  std::printf("weights    %s: %.2f GB resident, %.2f GB left mapped (PLE table / experts, read in parts per token)\n",
              std::string(residency_name(model.residency())).c_str(),
              static_cast<double>(model.resident().resident_bytes) / 1e9,
              static_cast<double>(model.resident().mapped_bytes) / 1e9);
  std::printf("prefill    %8.2f tok/s  (min %.2f, max %.2f; %d-token prompt)\n", p.median, p.min, p.max, a.prompt);
  std::printf("decode     %8.2f tok/s  (min %.2f, max %.2f; %d tokens)\n", d.median, d.min, d.max, a.gen);
  std::printf("ttft       %8.3f s      (min %.3f, max %.3f; cold process, 8-token prompt)\n", f.median, f.min, f.max);
  std::printf("peak RSS   %8.1f MiB\n", static_cast<double>(rss) / (1024.0 * 1024.0));
  const int64_t bytes_per_token = gemma4_decode_bytes_per_token(model);
  const double bw = a.bandwidth ? read_bandwidth_gbs(a.threads) : 0.0;
  std::printf("weights    %8.3f GB read per decoded token\n", static_cast<double>(bytes_per_token) / 1e9);
  if (bw > 0) {
    const double bound = bw * 1e9 / static_cast<double>(bytes_per_token);
    std::printf("bandwidth  %8.1f GB/s read -> decode bound %.1f tok/s; measured %.0f%% of it\n", bw, bound,
                100.0 * d.median / bound);
  }
  if (a.json) {
    nlohmann::json j = {{"model", a.model},
                        {"threads", a.threads},
                        {"prompt_tokens", a.prompt},
                        {"gen_tokens", a.gen},
                        {"reps", a.reps},
                        {"prefill_tok_s", p.median},
                        {"prefill_tok_s_min", p.min},
                        {"prefill_tok_s_max", p.max},
                        {"decode_tok_s", d.median},
                        {"decode_tok_s_min", d.min},
                        {"decode_tok_s_max", d.max},
                        {"ttft_s", f.median},
                        {"peak_rss_bytes", rss},
                        {"weights", a.weights},
                        {"decode_bytes_per_token", bytes_per_token}};
    if (bw > 0) j["read_bandwidth_gbs"] = bw;
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure prefill/decode speed, time to first token and peak memory");
  cmd->add_option("-m,--model", args->model, "GGUF model file");
  cmd->add_option("--synthetic", args->synthetic,
                  "Benchmark a random-weight model of this shape: e2b|e4b|12b|26b-a4b|31b");
  cmd->add_option("--type", args->type, "Weight type for --synthetic: q4_0|q4_k_m|q8_0|...");
  cmd->add_option("--cache-dir", args->cache_dir,
                  "Where --synthetic models are kept (default ~/.cache/pocket/synthetic)");
  cmd->add_option("-p,--prompt", args->prompt, "Prompt length for the prefill test");
  cmd->add_option("-n,--gen", args->gen, "Tokens for the decode test");
  cmd->add_option("-t,--threads", args->threads, "Threads");
  cmd->add_option("-r,--reps", args->reps, "Repetitions (median and spread are reported)");
  cmd->add_flag("--json", args->json, "Also print one JSON object as the last line");
  cmd->add_option("--weights", args->weights, "load (copy into RAM, default) | mlock | mmap");
  cmd->add_flag("--bandwidth", args->bandwidth,
                "Also measure memory read bandwidth and the decode bound (alone: only the bandwidth)");
  cmd->add_flag("--ttft-probe", args->ttft_probe, "Internal: cold-process time-to-first-token child")->group("");
  cmd->callback([args, &exit_code] { exit_code = run_bench(*args); });
}

}  // namespace pocket::cli
