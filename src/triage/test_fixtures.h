// Shared by the triage unit tests (not used by the library): a fresh temporary folder per test, and
// a record builder for the report and record-store tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace pocket::triage::testing {

// dir_ is an empty folder named after the test (and the process), removed after the test.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "pocket-triage-";
    name.append(std::to_string(::getpid())).append("-").append(info->test_suite_name());
    name.append("-").append(info->name());
    dir_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Writes dir_/rel (creating its folders).
  void write(const std::filesystem::path& rel, const std::string& bytes) const {
    std::filesystem::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  static std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::filesystem::path dir_;
};

// A record of `path` with the given fields (only what a test needs; the reports accept partial records).
inline nlohmann::json record(const std::string& path, nlohmann::json fields = nlohmann::json::object()) {
  fields["path"] = path;
  return fields;
}

}  // namespace pocket::triage::testing
