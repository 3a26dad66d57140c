// safetensors: write/read round trip, sharded checkpoints, and one clear error per kind of corruption.
#include "format/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace pocket {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("pocket_safetensors_test_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<uint8_t> bytes_of(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::vector<uint8_t> read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

void write_all(const fs::path& p, const std::vector<uint8_t>& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// A raw file with the given header JSON and `data_bytes` zero bytes of data.
std::vector<uint8_t> raw_file(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> b(8 + header.size() + data_bytes, 0);
  const uint64_t n = header.size();
  std::memcpy(b.data(), &n, 8);
  std::memcpy(b.data() + 8, header.data(), header.size());
  return b;
}

std::string parse_error(const std::vector<uint8_t>& b) {
  auto r = SafetensorsFile::parse(b, "x.safetensors");
  return r.ok() ? std::string("(parsed)") : r.error().message;
}

TEST(Safetensors, RoundTripSortedByNameWithMetadata) {
  fs::path d = temp_dir("roundtrip");
  std::vector<SafetensorsWriteTensor> ts;
  ts.push_back({"z.weight", "F32", {2, 3}, bytes_of({1, 2, 3, 4, 5, 6})});
  ts.push_back({"a.bias", "BF16", {4}, {0x80, 0x3f, 0x00, 0x40, 0x40, 0x40, 0x80, 0x40}});
  ts.push_back({"m.scalar", "F16", {}, {0x00, 0x3c}});
  ts.push_back({"ids", "I64", {1}, std::vector<uint8_t>(8, 7)});
  ASSERT_TRUE(write_safetensors((d / "m.safetensors").string(), ts, {{"format", "pt"}}).ok());
  EXPECT_FALSE(fs::exists(d / "m.safetensors.partial"));
  {
    const auto raw = read_all(d / "m.safetensors");
    uint64_t n_header = 0;
    std::memcpy(&n_header, raw.data(), 8);
    EXPECT_EQ(n_header % 8, 0u);  // header padded with spaces, as the reference writer does
    EXPECT_EQ(raw.size(), 8 + n_header + 24 + 8 + 2 + 8);
  }

  auto f = SafetensorsFile::open((d / "m.safetensors").string());
  ASSERT_TRUE(f.ok()) << f.error().message;
  ASSERT_EQ(f->tensors().size(), 4u);
  EXPECT_EQ(f->tensors()[0].name, "a.bias");
  EXPECT_EQ(f->tensors()[1].name, "ids");
  EXPECT_EQ(f->tensors()[2].name, "m.scalar");
  EXPECT_EQ(f->tensors()[3].name, "z.weight");
  EXPECT_EQ(f->metadata().at("format"), "pt");
  const SafetensorsTensor* z = f->find("z.weight");
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(z->ggml_ne(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(z->ggml_type(), GgmlType::F32);
  float v[6];
  std::memcpy(v, z->data, sizeof(v));
  EXPECT_EQ(v[5], 6.0f);
  EXPECT_EQ(f->find("a.bias")->ggml_type(), GgmlType::BF16);
  EXPECT_EQ(f->find("m.scalar")->ggml_type(), GgmlType::F16);
  EXPECT_EQ(f->find("m.scalar")->n_elements(), 1);
  EXPECT_FALSE(f->find("ids")->ggml_type().has_value());
  EXPECT_EQ(f->find("missing"), nullptr);
}

TEST(Safetensors, DtypeSizes) {
  EXPECT_EQ(safetensors_dtype_size("BF16"), 2u);
  EXPECT_EQ(safetensors_dtype_size("F32"), 4u);
  EXPECT_EQ(safetensors_dtype_size("I64"), 8u);
  EXPECT_EQ(safetensors_dtype_size("F8_E4M3"), 1u);
  EXPECT_EQ(safetensors_dtype_size("F4"), 0u);
  EXPECT_EQ(safetensors_dtype_size("float32"), 0u);
}

TEST(Safetensors, CorruptFilesGiveOneClearError) {
  const std::string ok_entry = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  EXPECT_EQ(parse_error(raw_file("{" + ok_entry + "}", 8)), "(parsed)");
  EXPECT_NE(parse_error({1, 2, 3}).find("too small"), std::string::npos);
  // Truncated: header length beyond the file, data shorter than the offsets.
  auto trunc = raw_file("{" + ok_entry + "}", 8);
  trunc.resize(20);
  EXPECT_NE(parse_error(trunc).find("truncated"), std::string::npos) << parse_error(trunc);
  EXPECT_NE(parse_error(raw_file("{" + ok_entry + "}", 4)).find("truncated"), std::string::npos);
  EXPECT_NE(parse_error(raw_file("{" + ok_entry + "}", 12)).find("trailing"), std::string::npos);
  {
    std::vector<uint8_t> huge(16, 0);
    huge[7] = 1;  // header length 2^56
    EXPECT_NE(parse_error(huge).find("implausible"), std::string::npos);
  }
  EXPECT_NE(parse_error(raw_file("{not json", 0)).find("not valid JSON"), std::string::npos);
  EXPECT_NE(parse_error(raw_file("[1,2]", 0)).find("not a JSON object"), std::string::npos);
  auto err = parse_error(raw_file(R"({"t":{"dtype":"Q4","shape":[2],"data_offsets":[0,1]}})", 1));
  EXPECT_NE(err.find("tensor 't'"), std::string::npos) << err;
  EXPECT_NE(err.find("dtype 'Q4'"), std::string::npos) << err;
  err = parse_error(raw_file(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8));
  EXPECT_NE(err.find("needs 12"), std::string::npos) << err;
  err = parse_error(raw_file(R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8));
  EXPECT_NE(err.find("non-negative"), std::string::npos) << err;
  err = parse_error(raw_file(R"({"t":{"dtype":"F32","shape":[2]}})", 8));
  EXPECT_NE(err.find("data_offsets"), std::string::npos) << err;
  err = parse_error(raw_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8));
  EXPECT_NE(err.find("end before"), std::string::npos) << err;
  // Overlap and gap.
  err = parse_error(raw_file(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      12));
  EXPECT_NE(err.find("overlap"), std::string::npos) << err;
  err = parse_error(raw_file(
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
      12));
  EXPECT_NE(err.find("gap"), std::string::npos) << err;
  err = parse_error(raw_file(R"({"__metadata__":{"k":1}})", 0));
  EXPECT_NE(err.find("__metadata__"), std::string::npos) << err;
}

TEST(Safetensors, TruncatedFileOnDisk) {
  fs::path d = temp_dir("trunc");
  ASSERT_TRUE(
      write_safetensors((d / "model.safetensors").string(), {{"w", "F32", {4, 4}, std::vector<uint8_t>(64, 1)}}).ok());
  auto b = read_all(d / "model.safetensors");
  b.resize(b.size() - 10);
  write_all(d / "model.safetensors", b);
  auto f = SafetensorsFile::open((d / "model.safetensors").string());
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("model.safetensors: tensor 'w': truncated"), std::string::npos) << f.error().message;
  auto c = SafetensorsCheckpoint::open_dir(d.string());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("truncated"), std::string::npos);
}

void write_index(const fs::path& dir, const std::string& weight_map) {
  std::ofstream f(dir / "model.safetensors.index.json");
  f << R"({"metadata":{"total_size":0},"weight_map":)" << weight_map << "}";
}

TEST(Safetensors, ShardedCheckpointInConverterOrder) {
  fs::path d = temp_dir("sharded");
  ASSERT_TRUE(write_safetensors((d / "model-00002-of-00002.safetensors").string(),
                                {{"b", "F32", {1}, bytes_of({2})}, {"a2", "F32", {1}, bytes_of({3})}})
                  .ok());
  ASSERT_TRUE(
      write_safetensors((d / "model-00001-of-00002.safetensors").string(), {{"c", "F32", {1}, bytes_of({1})}}).ok());
  // Without an index every model*.safetensors file is read, in file-name order.
  {
    auto c = SafetensorsCheckpoint::open_dir(d.string());
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_EQ(c->tensors().size(), 3u);
    EXPECT_EQ(c->tensors()[0].name, "c");
    EXPECT_EQ(c->tensors()[1].name, "a2");
    EXPECT_EQ(c->tensors()[2].name, "b");
    EXPECT_EQ(c->files().size(), 2u);
  }
  write_index(d, R"({"a2":"model-00002-of-00002.safetensors","b":"model-00002-of-00002.safetensors",)"
                 R"("c":"model-00001-of-00002.safetensors"})");
  {
    auto c = SafetensorsCheckpoint::open_dir(d.string());
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_NE(c->find("b"), nullptr);
    float v = 0;
    std::memcpy(&v, c->find("b")->data, 4);
    EXPECT_EQ(v, 2.0f);
    EXPECT_NE(c->find("b")->file.find("model-00002-of-00002.safetensors"), std::string::npos);
  }
  // The index and the shards must agree.
  write_index(d, R"({"a2":"model-00002-of-00002.safetensors","b":"model-00002-of-00002.safetensors",)"
                 R"("c":"model-00001-of-00002.safetensors","d":"model-00001-of-00002.safetensors"})");
  auto c = SafetensorsCheckpoint::open_dir(d.string());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("tensor 'd'"), std::string::npos) << c.error().message;
  write_index(d, R"({"b":"model-00002-of-00002.safetensors","c":"model-00001-of-00002.safetensors"})");
  c = SafetensorsCheckpoint::open_dir(d.string());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("'a2' is not listed"), std::string::npos) << c.error().message;
  write_index(d, R"({"a2":"model-00003-of-00003.safetensors"})");
  c = SafetensorsCheckpoint::open_dir(d.string());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("missing shard"), std::string::npos) << c.error().message;
  write_index(d, R"({"a2":"../x.safetensors"})");
  c = SafetensorsCheckpoint::open_dir(d.string());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("not a file in the directory"), std::string::npos) << c.error().message;
}

TEST(Safetensors, DirectoryWithoutWeights) {
  fs::path d = temp_dir("empty");
  auto c = SafetensorsCheckpoint::open_dir(d.string());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("no model*.safetensors"), std::string::npos);
  EXPECT_FALSE(SafetensorsCheckpoint::open_dir((d / "nope").string()).ok());
}

}  // namespace
}  // namespace pocket
