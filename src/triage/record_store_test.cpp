// The resumable state: atomic record files, resume decisions, the inbox walk, file lists and the
// stable shard split.
#include "triage/record_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "triage/hashing.h"
#include "triage/inbox.h"
#include "triage/test_fixtures.h"

namespace pocket::triage {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::record;

using TriageRecordStore = testing::TempDirTest;

// prefix + i + suffix (built by append: GCC 12's -Wrestrict misfires on chained operator+).
std::string numbered(const char* prefix, int i, const char* suffix) {
  std::string s = prefix;
  s.append(std::to_string(i)).append(suffix);
  return s;
}
using TriageInbox = testing::TempDirTest;

TEST(TriageHashing, Sha256KnownVectorsAndFile) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto missing = sha256_file("/nonexistent/x");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/nonexistent/x"), std::string::npos);
}

TEST(TriageShard, StableEvenAndParsed) {
  // Fixed values (Python: int(hashlib.sha256(p.encode()).hexdigest()[:16], 16) % n).
  EXPECT_EQ(shard_of("a.txt", 1), 0);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 4000; ++i) {
    const std::string p = numbered("dir/file-", i, ".txt");
    const int s = shard_of(p, 4);
    ASSERT_GE(s, 0);
    ASSERT_LT(s, 4);
    EXPECT_EQ(s, shard_of(p, 4));  // same answer every time
    ++counts[static_cast<size_t>(s)];
  }
  for (int c : counts) EXPECT_NEAR(c, 1000, 150);
  const std::string h = sha256_hex("a.txt");
  EXPECT_EQ(shard_of("a.txt", 7), static_cast<int>(std::stoull(h.substr(0, 16), nullptr, 16) % 7));

  auto ok = parse_shard("2/5");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->index, 2);
  EXPECT_EQ(ok->count, 5);
  for (const char* bad : {"5/5", "-1/5", "1/0", "1", "a/b", "1/2/3", "1/ 2", ""}) {
    EXPECT_FALSE(parse_shard(bad).ok()) << bad;
  }
  // Every path in exactly one shard.
  std::vector<InboxEntry> all;
  for (int i = 0; i < 50; ++i) all.push_back({numbered("f", i, ""), "", ""});
  std::set<std::string> seen;
  for (int k = 0; k < 3; ++k) {
    for (const auto& e : select_shard(all, {k, 3})) EXPECT_TRUE(seen.insert(e.path).second);
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST_F(TriageRecordStore, PutFindReplaceLoadAll) {
  auto store = RecordStore::open((dir_ / "rep").string());
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_TRUE(store->find("a.txt").is_null());
  ASSERT_TRUE(store->put(record("a.txt", {{"sha256", "s1"}, {"config", "c"}, {"label", "x"}})).ok());
  ASSERT_TRUE(store->put(record("b/c.txt", {{"sha256", "s2"}, {"config", "c"}})).ok());
  ASSERT_TRUE(store->put(record("a.txt", {{"sha256", "s3"}, {"config", "c"}, {"label", "y"}})).ok());
  EXPECT_EQ(store->find("a.txt")["label"], "y");
  const auto all = store->load_all();
  ASSERT_EQ(all.size(), 2u);  // replaced, never duplicated
  EXPECT_EQ(all.at("b/c.txt")["sha256"], "s2");
  EXPECT_FALSE(store->put({{"label", "x"}}).ok());  // no path
  // No temp files are left behind.
  for (const auto& e : fs::directory_iterator(dir_ / "rep" / "records")) {
    EXPECT_EQ(e.path().extension(), ".json") << e.path();
  }
}

TEST_F(TriageRecordStore, ResumeDecision) {
  const json r = record("a", {{"sha256", "abc"}, {"config", "c1"}});
  EXPECT_TRUE(record_is_current(r, "abc", "c1"));
  EXPECT_FALSE(record_is_current(r, "abd", "c1"));  // the file changed: redo
  EXPECT_FALSE(record_is_current(r, "abc", "c2"));  // other labels or model: redo
  EXPECT_FALSE(record_is_current(nullptr, "abc", "c1"));
  EXPECT_FALSE(record_is_current(record("a", {{"sha256", ""}, {"config", "c1"}}), "", "c1"));  // unreadable then
}

TEST_F(TriageRecordStore, LeftoversOfAKilledRunAreIgnoredAndRemoved) {
  auto store = RecordStore::open((dir_ / "rep").string());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(store->put(record("done.txt", {{"sha256", "s"}, {"config", "c"}})).ok());
  // A kill between write and rename leaves a temp file; a torn write can leave garbage.
  write("rep/records/0123.json.tmp.999", "{\"path\": \"half");
  write("rep/records/zzzz.json", "{\"path\": ");
  write("rep/manifest.json.tmp.999", "{");
  auto again = RecordStore::open((dir_ / "rep").string());
  ASSERT_TRUE(again.ok());
  std::vector<std::string> bad;
  const auto all = again->load_all(&bad);
  EXPECT_EQ(all.size(), 1u);
  EXPECT_EQ(bad.size(), 1u);
  EXPECT_FALSE(fs::exists(dir_ / "rep/records/0123.json.tmp.999"));
  EXPECT_FALSE(fs::exists(dir_ / "rep/manifest.json.tmp.999"));
}

TEST_F(TriageRecordStore, ManifestAtomicRoundTrip) {
  auto store = RecordStore::open((dir_ / "rep").string());
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE(store->read_manifest().is_null());
  ASSERT_TRUE(store->write_manifest({{"files_done", 3}}).ok());
  ASSERT_TRUE(store->write_manifest({{"files_done", 4}}).ok());
  EXPECT_EQ(store->read_manifest()["files_done"], 4);
  EXPECT_FALSE(write_file_atomic("/nonexistent/dir/x.json", "{}").ok());
}

TEST_F(TriageInbox, WalkIsSortedRecursiveAndReportsOddEntries) {
  write("in/b.txt", "b");
  write("in/a/z.md", "z");
  write("in/.hidden", "h");
  write("in/rep/records/x.json", "{}");  // the report folder inside the inbox is left out
  ASSERT_EQ(::mkfifo((dir_ / "in/pipe").c_str(), 0600), 0);
  fs::create_symlink(dir_ / "in/missing", dir_ / "in/dangling");
  fs::create_directory_symlink(dir_ / "in/a", dir_ / "in/loop");
  auto l = list_inbox((dir_ / "in").string(), (dir_ / "in/rep").string());
  ASSERT_TRUE(l.ok()) << l.error().message;
  std::vector<std::string> paths;
  for (const auto& e : *l) paths.push_back(e.path + (e.problem.empty() ? "" : " !"));
  EXPECT_EQ(paths, (std::vector<std::string>{".hidden", "a/z.md", "b.txt", "dangling !", "loop !", "pipe !"}));
  EXPECT_FALSE(list_inbox((dir_ / "nope").string()).ok());
}

TEST_F(TriageInbox, FileListResolvesRelativePathsAndNamesBadLines) {
  write("in/a.txt", "a");
  write("list.jsonl",
        "{\"path\": \"a.txt\"}\n\n{\"path\": \"gone.txt\", \"x\": 1}\n{\"path\": \"a.txt\"}\n{\"path\": \"" +
            (dir_ / "in/a.txt").string() + "\"}\n");
  auto l = read_file_list((dir_ / "list.jsonl").string(), (dir_ / "in").string());
  ASSERT_TRUE(l.ok()) << l.error().message;
  ASSERT_EQ(l->size(), 2u);  // the absolute path inside the inbox is the same file as a.txt
  EXPECT_EQ((*l)[0].path, "a.txt");
  EXPECT_TRUE((*l)[0].problem.empty());
  EXPECT_EQ((*l)[1].path, "gone.txt");
  EXPECT_EQ((*l)[1].problem, "listed but not found");
  write("bad.jsonl", "{\"path\": \"a\"}\n[1]\n");
  auto bad = read_file_list((dir_ / "bad.jsonl").string(), (dir_ / "in").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("bad.jsonl:2: not a JSON object"), std::string::npos) << bad.error().message;
  write("nopath.jsonl", "{\"file\": \"a\"}\n");
  auto np = read_file_list((dir_ / "nopath.jsonl").string(), (dir_ / "in").string());
  ASSERT_FALSE(np.ok());
  EXPECT_NE(np.error().message.find("nopath.jsonl:1: needs \"path\""), std::string::npos);
}

}  // namespace
}  // namespace pocket::triage
