// GGUF requantization (see quantize.h).
#include "convert/quantize.h"

#include <algorithm>
#include <filesystem>

#include "convert/imatrix_file.h"

namespace pocket::convert {
namespace {

bool is_quantized(GgmlType t) { return t != GgmlType::F32 && t != GgmlType::F16 && t != GgmlType::BF16; }

std::optional<int64_t> first_int(const GgufValue* v) {
  if (!v) return std::nullopt;
  if (auto i = v->as_int()) return i;
  if (auto a = v->as_int_array(); a && !a->empty()) return (*a)[0];
  return std::nullopt;
}

}  // namespace

Result<MixModelInfo> mix_info_from_metadata(const ModelPlan& plan) {
  const GgufValue* arch_v = plan.find("general.architecture");
  if (!arch_v || !arch_v->as_string()) return Error{"missing key general.architecture"};
  const std::string a = *arch_v->as_string() + ".";
  MixModelInfo info;
  auto n_layer = first_int(plan.find(a + "block_count"));
  if (!n_layer || *n_layer <= 0) return Error{"missing or invalid key " + a + "block_count"};
  info.n_layer = static_cast<int>(*n_layer);
  info.n_expert = static_cast<int>(first_int(plan.find(a + "expert_count")).value_or(0));
  info.n_head = static_cast<int>(first_int(plan.find(a + "attention.head_count")).value_or(0));
  info.n_head_kv = static_cast<int>(first_int(plan.find(a + "attention.head_count_kv")).value_or(info.n_head));
  return info;
}

ModelPlan plan_from_gguf(const GgufFile& f) {
  ModelPlan plan;
  plan.alignment = static_cast<uint32_t>(f.alignment());
  for (const auto& [k, v] : f.metadata()) {
    if (k != "general.alignment") plan.kv.emplace_back(k, v);
  }
  for (const auto& t : f.tensors()) {
    PlanTensor p;
    p.name = t.name;
    p.ne = t.ne;
    p.src_type = p.type = t.type;
    p.src = t.data;
    p.origin = f.path() + ": tensor '" + t.name + "'";
    plan.tensors.push_back(std::move(p));
  }
  return plan;
}

Status apply_quant_mix(ModelPlan& plan, const QuantizeOptions& opt) {
  auto mix = find_quant_mix(opt.type);
  if (!mix) return Error{"unknown quantization type '" + opt.type + "'"};
  auto info = mix_info_from_metadata(plan);
  if (!info) return info.error();
  info->has_imatrix = !opt.imatrix.empty();
  std::stable_sort(plan.tensors.begin(), plan.tensors.end(),
                   [](const PlanTensor& a, const PlanTensor& b) { return quantize_order_less(a.name, b.name); });
  std::vector<MixTensor> mt;
  for (const auto& t : plan.tensors) mt.push_back({t.name, t.ne, t.src_type});
  const std::vector<GgmlType> types = choose_types(mt, *mix, *info, opt.pure);
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    PlanTensor& t = plan.tensors[i];
    if (types[i] != t.src_type && is_quantized(t.src_type) && !opt.allow_requantize) {
      return Error{t.origin + " is already " + std::string(traits(t.src_type).name) + "; re-quantizing it to " +
                   std::string(traits(types[i]).name) +
                   " loses precision twice (pass --allow-requantize to do it anyway)"};
    }
    t.type = types[i];
  }
  plan.set_last("general.quantization_version", GgufValue::u32(2));
  plan.set_last("general.file_type", GgufValue::u32(mix->ftype));
  return {};
}

Status attach_imatrix(ModelPlan& plan, const std::string& imatrix_path) {
  auto im = read_imatrix(imatrix_path);
  if (!im) return im.error();
  const auto weights = importance_weights(*im);
  int matched = 0;
  for (PlanTensor& t : plan.tensors) {
    auto it = weights.find(t.name);
    if (it == weights.end()) continue;
    ++matched;
    if (t.type == t.src_type) continue;  // copied as it is
    const int64_t n_mat = t.ne.size() > 2 ? t.ne[2] : 1;
    if (static_cast<int64_t>(it->second.size()) != t.ne[0] * n_mat) {
      if (t.name == "token_embd.weight" || t.name == "per_layer_token_embd.weight") continue;
      return Error{imatrix_path + ": entry '" + t.name + "' has " + std::to_string(it->second.size()) +
                   " values, the model's tensor needs " + std::to_string(t.ne[0] * n_mat) +
                   " (imatrix computed for a different model?)"};
    }
    t.importance = std::make_shared<const std::vector<float>>(it->second);
  }
  if (matched == 0) {
    return Error{imatrix_path + ": none of its " + std::to_string(im->entries.size()) +
                 " entries names a tensor of this model (imatrix computed for a different model?)"};
  }
  // llama-quantize passes these as key overrides: strings cut to 127 bytes, counts as u32.
  plan.set_last("quantize.imatrix.file", GgufValue::str(imatrix_path.substr(0, 127)));
  if (!im->datasets.empty()) plan.set_last("quantize.imatrix.dataset", GgufValue::str(im->datasets[0].substr(0, 127)));
  plan.set_last("quantize.imatrix.entries_count", GgufValue::u32(static_cast<uint32_t>(im->entries.size())));
  if (im->chunk_count > 0) plan.set_last("quantize.imatrix.chunks_count", GgufValue::u32(im->chunk_count));
  return {};
}

Status quantize_gguf(const std::string& in_path, const std::string& out_path, const QuantizeOptions& opt, int threads,
                     const Progress& progress) {
  std::error_code ec;
  if (std::filesystem::exists(out_path, ec) && std::filesystem::equivalent(in_path, out_path, ec)) {
    return Error{out_path + ": output is the input file"};
  }
  auto f = GgufFile::open(in_path);
  if (!f) return f.error();
  ModelPlan plan = plan_from_gguf(*f);
  for (auto& t : plan.tensors) t.mapped = true;  // GgufFile::open maps the file read-only, shared
  if (Status st = apply_quant_mix(plan, opt); !st.ok()) {
    return st.message().rfind(in_path, 0) == 0 ? st : Error{in_path + ": " + st.message()};
  }
  if (!opt.imatrix.empty()) {
    if (Status st = attach_imatrix(plan, opt.imatrix); !st.ok()) return st;
  }
  return write_plan(plan, out_path, threads, progress);
}

}  // namespace pocket::convert
