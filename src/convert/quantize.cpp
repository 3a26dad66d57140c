// GGUF requantization (see quantize.h).
#include "convert/quantize.h"

#include <algorithm>
#include <filesystem>

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
  return write_plan(plan, out_path, threads, progress);
}

}  // namespace pocket::convert
