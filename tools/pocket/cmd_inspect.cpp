// `pocket inspect MODEL.gguf [--ctx N] [--json]`: metadata, tensor table, bytes per type, and the
// memory a session needs for a context of N tokens.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli_util.h"
#include "commands.h"
#include "convert/gguf_inspect.h"

namespace pocket::cli {
namespace {

struct InspectArgs {
  std::string path;
  int n_ctx = 0;
  int max_batch = 512;
  int threads = 0;
  bool json = false;
  bool no_tensors = false;
};

std::string mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

std::string shape(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

nlohmann::ordered_json to_json(const convert::InspectReport& r, bool with_tensors) {
  nlohmann::ordered_json j;
  j["path"] = r.path;
  j["version"] = r.version;
  j["alignment"] = r.alignment;
  j["file_bytes"] = r.file_bytes;
  j["data_offset"] = r.data_offset;
  j["architecture"] = r.architecture;
  j["metadata_count"] = r.metadata.size();
  nlohmann::ordered_json md = nlohmann::ordered_json::object();
  for (const auto& [k, v] : r.metadata) md[k] = v;
  j["metadata"] = md;
  j["tensor_count"] = r.tensors.size();
  j["tensor_bytes"] = r.tensor_bytes;
  nlohmann::ordered_json types = nlohmann::ordered_json::object();
  for (const auto& [t, tot] : r.per_type) types[t] = {{"tensors", tot.n_tensors}, {"bytes", tot.n_bytes}};
  j["per_type"] = types;
  if (with_tensors) {
    nlohmann::ordered_json ts = nlohmann::ordered_json::array();
    for (const auto& t : r.tensors)
      ts.push_back({{"name", t.name}, {"type", t.type}, {"shape", t.ne}, {"bytes", t.n_bytes}});
    j["tensors"] = ts;
  }
  const convert::MemoryEstimate& m = r.memory;
  nlohmann::ordered_json mem;
  mem["weights_resident"] = m.weights_resident;
  mem["weights_mapped"] = m.weights_mapped;
  if (m.has_model) {
    mem["n_ctx"] = m.n_ctx;
    mem["max_batch"] = m.max_batch;
    mem["kv_layers"] = m.kv_layers;
    mem["kv_sliding_capacity"] = m.kv_sliding_capacity;
    mem["kv_cache"] = m.kv_cache;
    mem["activations"] = m.activations;
  }
  mem["total"] = m.total();
  j["memory"] = mem;
  return j;
}

void print_text(const convert::InspectReport& r, bool with_tensors) {
  std::printf("%s: GGUF v%u, %s, architecture %s\n", r.path.c_str(), r.version, mib(r.file_bytes).c_str(),
              r.architecture.empty() ? "(none)" : r.architecture.c_str());
  std::printf("\nmetadata (%zu keys):\n", r.metadata.size());
  for (const auto& [k, v] : r.metadata) std::printf("  %-48s %s\n", k.c_str(), v.c_str());
  if (with_tensors) {
    std::printf("\ntensors (%zu):\n", r.tensors.size());
    for (const auto& t : r.tensors)
      std::printf("  %-52s %-6s %-24s %12llu\n", t.name.c_str(), t.type.c_str(), shape(t.ne).c_str(),
                  static_cast<unsigned long long>(t.n_bytes));
  }
  std::printf("\nbytes per type:\n");
  for (const auto& [t, tot] : r.per_type)
    std::printf("  %-6s %5llu tensors %14s\n", t.c_str(), static_cast<unsigned long long>(tot.n_tensors),
                mib(tot.n_bytes).c_str());
  std::printf("  total  %5zu tensors %14s\n", r.tensors.size(), mib(r.tensor_bytes).c_str());
  const convert::MemoryEstimate& m = r.memory;
  std::printf("\nestimated memory");
  if (m.has_model) std::printf(" for %d tokens of context, batches of %d", m.n_ctx, m.max_batch);
  std::printf(":\n  weights in RAM       %14s\n  weights mapped       %14s%s\n", mib(m.weights_resident).c_str(),
              mib(m.weights_mapped).c_str(), m.weights_mapped ? "  (PLE table, read a row per token)" : "");
  if (m.has_model) {
    std::printf("  KV cache (F32)       %14s  (%d KV-owning layers; sliding layers keep %d rows)\n",
                mib(m.kv_cache).c_str(), m.kv_layers, m.kv_sliding_capacity);
    std::printf("  activations          %14s\n", mib(m.activations).c_str());
  } else {
    std::printf("  (weights only: no text decoder in this file)\n");
  }
  std::printf("  total                %14s\n", mib(m.total()).c_str());
}

int run_inspect(const InspectArgs& a) {
  const int threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto r = convert::inspect_gguf(a.path, a.n_ctx, a.max_batch, threads);
  if (!r.ok()) return report_error(r.error().message);
  if (a.json) {
    std::cout << to_json(r.value(), !a.no_tensors).dump(2) << "\n";
  } else {
    print_text(r.value(), !a.no_tensors);
  }
  return 0;
}

}  // namespace

void add_inspect_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show a GGUF file's metadata, tensors, sizes and memory for a context");
  cmd->add_option("model", a->path, "Model or mmproj .gguf")->required();
  cmd->add_option("--ctx", a->n_ctx, "Context length for the memory estimate (0 = the model's trained context)")
      ->capture_default_str();
  cmd->add_option("--batch", a->max_batch, "Tokens per forward pass (the engine's max_batch)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", a->threads, "Threads assumed for the estimate (0 = all cores)")->capture_default_str();
  cmd->add_flag("--json", a->json, "Machine-readable output");
  cmd->add_flag("--no-tensors", a->no_tensors, "Leave out the tensor table");
  cmd->callback([a, &exit_code] { exit_code = run_inspect(*a); });
}

}  // namespace pocket::cli
