// Tests for imatrix_file.h / imatrix_collect.h and quantize.h's attach_imatrix: the GGUF layout
// llama-imatrix writes, llama-quantize's normalisation, llama-imatrix's collection rules, and errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "convert/imatrix_collect.h"
#include "convert/imatrix_file.h"
#include "convert/quantize.h"
#include "format/gguf.h"

namespace pocket::convert {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("pocket_imatrix_test_" + name)).string();
}

Imatrix sample() {
  Imatrix m;
  m.datasets = {"calib.txt"};
  m.chunk_count = 2;
  m.chunk_size = 64;
  m.entries["blk.0.attn_q.weight"] = {4, {1, 2, 3, 4}, {2}};
  m.entries["blk.0.ffn_down_exps.weight"] = {2, {6, 8, 5, 5}, {2, 0}};  // expert 1 never routed
  return m;
}

TEST(Imatrix, FileHasLlamaLayoutAndRoundTrips) {
  const std::string path = temp_path("roundtrip.gguf");
  ASSERT_TRUE(write_imatrix(sample(), path).ok());
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f->find("general.type")->as_string(), "imatrix");
  EXPECT_EQ(f->find("imatrix.chunk_count")->as_uint(), 2u);
  EXPECT_EQ(f->find("imatrix.chunk_size")->as_uint(), 64u);
  ASSERT_EQ(f->tensors().size(), 4u);  // name order, in_sum2 before counts
  EXPECT_EQ(f->tensors()[0].name, "blk.0.attn_q.weight.in_sum2");
  EXPECT_EQ(f->tensors()[1].name, "blk.0.attn_q.weight.counts");
  EXPECT_EQ(f->tensors()[2].ne, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(f->tensors()[3].ne, (std::vector<int64_t>{1, 2}));
  auto m = read_imatrix(path);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->datasets, std::vector<std::string>{"calib.txt"});
  const auto w = importance_weights(*m);
  EXPECT_EQ(w.at("blk.0.attn_q.weight"), (std::vector<float>{0.5f, 1.0f, 1.5f, 2.0f}));
  EXPECT_EQ(w.at("blk.0.ffn_down_exps.weight"), (std::vector<float>{3.0f, 4.0f, 1.0f, 1.0f}));  // count 0 → 1
  std::filesystem::remove(path);
}

TEST(Imatrix, ReadRejectsBrokenFiles) {
  const std::string path = temp_path("broken.gguf");
  auto write = [&](bool counts, bool meta, GgmlType type) {
    GgufWriter w;
    if (meta) {
      w.set("imatrix.datasets", GgufValue::str_array({"x"}));
      w.set("imatrix.chunk_count", GgufValue::u32(1));
      w.set("imatrix.chunk_size", GgufValue::u32(16));
    }
    w.add_tensor("blk.0.attn_q.weight.in_sum2", type, {32, 1}, std::vector<uint8_t>(row_size(type, 32)));
    if (counts) w.add_tensor("blk.0.attn_q.weight.counts", GgmlType::F32, {1, 1}, std::vector<uint8_t>(4));
    ASSERT_TRUE(w.write(path).ok());
  };
  write(false, true, GgmlType::F32);
  auto r = read_imatrix(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("entry 'blk.0.attn_q.weight' has in_sum2 but no counts"), std::string::npos);
  write(true, false, GgmlType::F32);
  r = read_imatrix(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("missing imatrix metadata"), std::string::npos);
  write(true, true, GgmlType::F16);
  r = read_imatrix(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("must be F32"), std::string::npos);
  std::filesystem::resize_file(path, 200);
  r = read_imatrix(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a readable GGUF importance matrix"), std::string::npos);
  std::filesystem::remove(path);
}

TEST(Imatrix, CollectorFollowsLlamaImatrixRules) {
  ImatrixCollector c;
  std::vector<float> x(20 * 3);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 3) - 1.0f;  // columns -1, 0, 1
  c.observe("blk.1.attn_q.weight", -1, 1, x.data(), 20, 3);                       // counted
  c.observe("blk.1.attn_q.weight", -1, 1, x.data(), 15, 3);                       // dense, < 16 rows: skipped
  c.observe("per_layer_model_proj.weight", -1, 1, x.data(), 20, 3);               // outside the blocks: skipped
  c.observe("blk.1.ffn_down_exps.weight", 2, 4, x.data(), 3, 3);                  // experts: any number of rows
  c.observe("blk.1.ffn_down_exps.weight", 2, 4, x.data(), 1, 3);
  auto m = c.result(10, {"t.txt"});
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->entries.size(), 2u);
  const ImatrixEntry& q = m->entries.at("blk.1.attn_q.weight");
  EXPECT_EQ(q.sums, (std::vector<float>{20, 0, 20}));
  EXPECT_EQ(q.counts, std::vector<float>{20});
  const ImatrixEntry& e = m->entries.at("blk.1.ffn_down_exps.weight");
  EXPECT_EQ(e.counts, (std::vector<float>{0, 0, 4, 0}));
  EXPECT_EQ(e.sums, (std::vector<float>{0, 0, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0}));
  EXPECT_EQ(m->chunk_count, 2u);  // largest count 20 / chunk size 10
}

TEST(Imatrix, AttachChecksSizesAndModel) {
  const std::string path = temp_path("attach.gguf");
  ASSERT_TRUE(write_imatrix(sample(), path).ok());
  auto plan_with = [](int64_t ne0) {
    ModelPlan plan;
    PlanTensor t = owned_tensor("blk.0.attn_q.weight", {ne0, 8}, GgmlType::F32,
                                std::vector<uint8_t>(static_cast<size_t>(ne0 * 8 * 4)));
    t.type = GgmlType::Q4_0;
    plan.tensors.push_back(std::move(t));
    return plan;
  };
  ModelPlan good = plan_with(4);
  ASSERT_TRUE(attach_imatrix(good, path).ok());
  ASSERT_TRUE(good.tensors[0].importance);
  EXPECT_EQ(good.tensors[0].importance->size(), 4u);
  EXPECT_EQ(*good.find("quantize.imatrix.entries_count")->as_uint(), 2u);
  EXPECT_EQ(*good.find("quantize.imatrix.dataset")->as_string(), "calib.txt");
  ModelPlan wrong = plan_with(32);
  Status st = attach_imatrix(wrong, path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("entry 'blk.0.attn_q.weight' has 4 values, the model's tensor needs 32"),
            std::string::npos);
  ModelPlan other = plan_with(4);
  other.tensors[0].name = "blk.0.attn_k.weight";
  st = attach_imatrix(other, path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("none of its 2 entries names a tensor of this model"), std::string::npos);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace pocket::convert
