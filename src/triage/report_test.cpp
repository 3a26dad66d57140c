// Reports (CSV quoting), merging shard reports, and `apply` filing copies without touching originals.
#include "triage/report.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "triage/hashing.h"
#include "triage/record_store.h"
#include "triage/test_fixtures.h"

namespace pocket::triage {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::record;

using TriageReportActions = testing::TempDirTest;

TEST(TriageCsv, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  const std::string csv = records_csv({{{"path", "a,b.txt"},
                                        {"label", "x"},
                                        {"confidence", 0.5},
                                        {"fields", {{"n", 1}}},
                                        {"flags", {"s", "t"}},
                                        {"error", nullptr}}});
  EXPECT_NE(csv.find("\"a,b.txt\",,,,,x,0.5,,\"{\"\"n\"\":1}\",s;t,,,\r\n"), std::string::npos) << csv;
}

TEST_F(TriageReportActions, MergeUnionsShardsAndFlagsDuplicates) {
  auto s0 = RecordStore::open((dir_ / "s0").string());
  auto s1 = RecordStore::open((dir_ / "s1").string());
  ASSERT_TRUE(s0.ok() && s1.ok());
  ASSERT_TRUE(
      write_reports({record("a", {{"label", "x"}}), record("b", {{"label", "x"}})}, (dir_ / "s0").string()).ok());
  // Shard 1 did not finish: only its records/.
  ASSERT_TRUE(s1->put(record("c", {{"label", "y"}})).ok());
  ASSERT_TRUE(s1->put(record("b", {{"label", "z"}})).ok());
  auto m = merge_reports((dir_ / "all").string(), {(dir_ / "s0").string(), (dir_ / "s1").string()});
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->records, 3u);
  EXPECT_EQ(m->duplicates, 1u);
  auto lines = read_jsonl((dir_ / "all/triage.jsonl").string());
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ((*lines)[1]["label"], "z");
  EXPECT_TRUE(fs::exists(dir_ / "all/triage.csv"));
  EXPECT_FALSE(merge_reports((dir_ / "x").string(), {(dir_ / "missing").string()}).ok());
}

TEST_F(TriageReportActions, ApplyCopiesByLabelAndNeverTouchesOriginals) {
  write("in/a.txt", "alpha");
  write("in/sub/b.txt", "beta");
  write("in/c.txt", "gamma");
  write("in/d.txt", "delta-changed");
  const auto sha = [&](const char* p) { return sha256_file((dir_ / p).string()).value(); };
  const std::string a = sha("in/a.txt"), b = sha("in/sub/b.txt");
  auto store = RecordStore::open((dir_ / "rep").string());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(store->write_manifest({{"inbox", (dir_ / "in").string()}}).ok());
  const auto labelled = [](const char* path, const std::string& hash, const char* label) {
    return record(path, {{"sha256", hash}, {"label", label}, {"error", nullptr}});
  };
  ASSERT_TRUE(write_reports({labelled("a.txt", a, "inv"), labelled("sub/b.txt", b, "med"),
                             record("c.txt", {{"sha256", nullptr}, {"label", nullptr}, {"error", "unsupported: x"}}),
                             labelled("d.txt", sha256_hex("delta"), "inv"), labelled("../escape.txt", a, "inv")},
                            (dir_ / "rep").string())
                  .ok());
  ApplyOptions o;
  o.to = (dir_ / "sorted").string();
  auto r = apply_report((dir_ / "rep").string(), o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->filed, 2u);
  EXPECT_EQ(r->skipped, 3u);  // error, changed since the run, path leaving the inbox
  EXPECT_EQ(read(dir_ / "sorted/inv/a.txt"), "alpha");
  EXPECT_EQ(read(dir_ / "sorted/med/sub/b.txt"), "beta");
  EXPECT_FALSE(fs::exists(dir_ / "sorted/inv/d.txt"));
  EXPECT_EQ(sha("in/a.txt"), a);
  EXPECT_EQ(sha("in/sub/b.txt"), b);
  // Again: nothing new, nothing overwritten.
  auto again = apply_report((dir_ / "rep").string(), o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->filed, 0u);
  EXPECT_EQ(again->unchanged, 2u);
  // A different file in the way is left alone.
  write("sorted/inv/a.txt", "someone else's");
  auto clash = apply_report((dir_ / "rep").string(), o);
  ASSERT_TRUE(clash.ok());
  EXPECT_EQ(read(dir_ / "sorted/inv/a.txt"), "someone else's");
  // Links.
  ApplyOptions l;
  l.to = (dir_ / "linked").string();
  l.link = true;
  auto lr = apply_report((dir_ / "rep").string(), l);
  ASSERT_TRUE(lr.ok());
  EXPECT_EQ(lr->filed, 2u);
  EXPECT_TRUE(fs::is_symlink(dir_ / "linked/inv/a.txt"));
  EXPECT_EQ(read(dir_ / "linked/inv/a.txt"), "alpha");
}

}  // namespace
}  // namespace pocket::triage
