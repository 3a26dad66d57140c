// GGUF reader/writer: round trip of every value type, and clear errors for corrupt files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "format/gguf.h"

namespace pocket {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("pocket_gguf_test_" + name)).string();
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

GgufWriter sample_writer() {
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("gemma4"));
  w.set("a.u8", {GgufValueType::UINT8, {}, uint64_t{200}});
  w.set("a.i8", {GgufValueType::INT8, {}, int64_t{-100}});
  w.set("a.u16", {GgufValueType::UINT16, {}, uint64_t{60000}});
  w.set("a.i16", {GgufValueType::INT16, {}, int64_t{-30000}});
  w.set("a.u32", GgufValue::u32(4000000000u));
  w.set("a.i32", GgufValue::i32(-2000000000));
  w.set("a.u64", {GgufValueType::UINT64, {}, uint64_t{1} << 60});
  w.set("a.i64", {GgufValueType::INT64, {}, int64_t{-(int64_t{1} << 60)}});
  w.set("a.f32", GgufValue::f32(1.5f));
  w.set("a.f64", {GgufValueType::FLOAT64, {}, 0.1});
  w.set("a.bool", GgufValue::boolean(true));
  w.set("a.str", GgufValue::str("héllo ▁world"));
  w.set("a.arr_u32", GgufValue::u32_array({1, 2, 3}));
  w.set("a.arr_f32", GgufValue::f32_array({0.5f, -2.0f}));
  w.set("a.arr_bool", GgufValue::bool_array({true, false, true}));
  w.set("a.arr_str", GgufValue::str_array({"x", "", "yz"}));
  GgufValue nested{GgufValueType::ARRAY, GgufValueType::ARRAY,
                   std::vector<GgufValue>{GgufValue::i32_array({-1, 2}), GgufValue::i32_array({7})}};
  w.set("a.nested", nested);
  std::vector<uint8_t> data(4 * 3 * 2);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  w.add_tensor("t.first", GgmlType::F32, {3, 2}, data);
  w.add_tensor("t.second", GgmlType::F16, {5}, [](std::span<uint8_t> out) { std::memset(out.data(), 0x3c, out.size()); });
  return w;
}

TEST(Gguf, RoundTripsEveryValueTypeAndTensors) {
  const std::string path = temp_path("roundtrip.gguf");
  ASSERT_TRUE(sample_writer().write(path).ok());
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(*f->find("a.u8")->as_uint(), 200u);
  EXPECT_EQ(f->find("a.u8")->type, GgufValueType::UINT8);
  EXPECT_EQ(*f->find("a.i8")->as_int(), -100);
  EXPECT_EQ(*f->find("a.u16")->as_uint(), 60000u);
  EXPECT_EQ(*f->find("a.i16")->as_int(), -30000);
  EXPECT_EQ(*f->find("a.u32")->as_uint(), 4000000000u);
  EXPECT_EQ(*f->find("a.i32")->as_int(), -2000000000);
  EXPECT_EQ(*f->find("a.u64")->as_uint(), uint64_t{1} << 60);
  EXPECT_EQ(*f->find("a.i64")->as_int(), -(int64_t{1} << 60));
  EXPECT_EQ(*f->find("a.f32")->as_float(), 1.5);
  EXPECT_EQ(*f->find("a.f64")->as_float(), 0.1);
  EXPECT_EQ(*f->find("a.bool")->as_bool(), true);
  EXPECT_EQ(*f->find("a.str")->as_string(), "héllo ▁world");
  EXPECT_EQ(*f->find("a.arr_u32")->as_int_array(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(*f->find("a.arr_f32")->as_float_array(), (std::vector<double>{0.5, -2.0}));
  EXPECT_EQ(*f->find("a.arr_bool")->as_bool_array(), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(*f->find("a.arr_str")->as_string_array(), (std::vector<std::string>{"x", "", "yz"}));
  const auto& nested = std::get<std::vector<GgufValue>>(f->find("a.nested")->data);
  ASSERT_EQ(nested.size(), 2u);
  EXPECT_EQ(*nested[0].as_int_array(), (std::vector<int64_t>{-1, 2}));
  EXPECT_EQ(*nested[1].as_int_array(), (std::vector<int64_t>{7}));

  ASSERT_EQ(f->tensors().size(), 2u);
  const auto* t1 = f->find_tensor("t.first");
  ASSERT_NE(t1, nullptr);
  EXPECT_EQ(t1->ne, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(t1->n_bytes, 24u);
  EXPECT_EQ(t1->data[5], 5);
  EXPECT_EQ(static_cast<uint64_t>(t1->data - f->bytes().data()) % 32, 0u);
  const auto* t2 = f->find_tensor("t.second");
  ASSERT_NE(t2, nullptr);
  EXPECT_EQ(t2->type, GgmlType::F16);
  EXPECT_EQ(t2->data[9], 0x3c);

  // Writing what we read gives back the same bytes.
  GgufWriter again;
  for (const auto& [k, v] : f->metadata()) again.set(k, v);
  for (const auto& t : f->tensors()) again.add_tensor(t.name, t.type, t.ne, std::vector<uint8_t>(t.data, t.data + t.n_bytes));
  const std::string path2 = temp_path("roundtrip2.gguf");
  ASSERT_TRUE(again.write(path2).ok());
  EXPECT_EQ(read_all(path), read_all(path2));
}

// Each corruption must yield an error that names the problem, never a crash.
void expect_error_containing(std::vector<uint8_t> bytes, const std::string& needle) {
  auto r = GgufFile::parse(bytes, "corrupt.gguf");
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << needle;
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.rfind("corrupt.gguf: ", 0), 0u) << r.error().message;
}

TEST(Gguf, RejectsCorruptFilesWithNamedErrors) {
  const std::string path = temp_path("corrupt_src.gguf");
  ASSERT_TRUE(sample_writer().write(path).ok());
  const auto good = read_all(path);

  expect_error_containing({}, "too small");
  auto bad_magic = good;
  bad_magic[0] = 'X';
  expect_error_containing(bad_magic, "bad magic");
  auto swapped = good;
  swapped[4] = 0; swapped[5] = 0; swapped[6] = 0; swapped[7] = 3;
  expect_error_containing(swapped, "big-endian");
  auto bad_version = good;
  bad_version[4] = 9;
  expect_error_containing(bad_version, "unsupported GGUF version 9");
  // Truncations anywhere before the end of the last tensor's data never crash and always produce an
  // error (the alignment padding after the last tensor is optional).
  auto parsed = GgufFile::parse(good, "good.gguf");
  ASSERT_TRUE(parsed.ok());
  uint64_t needed = 0;
  for (const auto& t : parsed->tensors()) needed = std::max(needed, parsed->data_offset() + t.offset + t.n_bytes);
  for (size_t n = 0; n < needed; n += 7) {
    auto r = GgufFile::parse(std::span<const uint8_t>(good.data(), n), "corrupt.gguf");
    EXPECT_FALSE(r.ok()) << "truncated to " << n << " bytes was accepted";
  }
  std::vector<uint8_t> truncated(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(needed) - 1);
  expect_error_containing(truncated, "tensor 't.second' data");
}

TEST(Gguf, RejectsBadTensorInfos) {
  auto make = [](GgmlType type, std::vector<int64_t> ne) {
    GgufWriter w;
    w.add_tensor("w", type, ne, [](std::span<uint8_t>) {});
    const std::string path = temp_path("bad_tensor.gguf");
    EXPECT_TRUE(w.write(path).ok());
    return read_all(path);
  };
  // Locate the type field: header(24) + name(8+1) + n_dims(4) + dims(8*n) → type u32.
  auto bytes = make(GgmlType::F32, {4});
  const size_t type_off = 24 + 9 + 4 + 8;
  bytes[type_off] = 99;
  expect_error_containing(bytes, "tensor 'w' has unknown tensor type 99");

  bytes = make(GgmlType::F32, {4});
  bytes[24 + 9 + 4] = 0;  // ne0 = 0
  expect_error_containing(bytes, "tensor 'w' has a zero-sized dimension");

  bytes = make(GgmlType::F32, {4});
  bytes[24 + 9] = 7;  // n_dims = 7
  expect_error_containing(bytes, "tensor 'w' has 7 dimensions");

  bytes = make(GgmlType::F32, {4});
  bytes[type_off + 4] = 1;  // offset 1: misaligned
  expect_error_containing(bytes, "not aligned");

  bytes = make(GgmlType::F32, {4});
  bytes[type_off + 4 + 6] = 1;  // offset huge: outside data section
  expect_error_containing(bytes, "outside the file's data section");

  bytes = make(GgmlType::F32, {4});
  for (int i = 0; i < 8; ++i) bytes[24 + 9 + 4 + i] = 0xff;  // ne0 = 2^64-1
  expect_error_containing(bytes, "overflows");
}

TEST(Gguf, RejectsHugeCountsAndBadMetadata) {
  std::vector<uint8_t> b = {'G', 'G', 'U', 'F', 3, 0, 0, 0};
  auto push64 = [&](uint64_t v) { for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i))); };
  push64(0);
  push64(uint64_t{1} << 40);
  expect_error_containing(b, "metadata count");

  b.resize(8);
  push64(0);
  push64(1);
  push64(3);
  b.insert(b.end(), {'k', 'e', 'y'});
  b.insert(b.end(), {77, 0, 0, 0});
  expect_error_containing(b, "metadata 'key' has unknown value type 77");

  b.resize(8 + 16 + 11);
  b.insert(b.end(), {9, 0, 0, 0, 4, 0, 0, 0});  // array of u32
  push64(uint64_t{1} << 50);
  expect_error_containing(b, "metadata 'key': array length");
}

}  // namespace
}  // namespace pocket
