// pocket_tokenizer_check: compares pocket's tokenizer with llama.cpp's, token for token.
//
//   pocket_tokenizer_check --model M.gguf --cases CASES.bin
//       CASES.bin holds texts with the ids llama.cpp (node-llama-cpp's model.tokenize) gave them
//       (written by run_parity.mjs). Every text is encoded here and compared; valid UTF-8 texts are also
//       checked to decode back to themselves.
//   pocket_tokenizer_check --model M.gguf --llama-lib DIR [--builtin-bytes] [--files LIST]
//       Raw bytes (invalid UTF-8, Latin-1 mail, ...), which a JavaScript string cannot carry: llama.cpp's
//       libllama from the node-llama-cpp package (DIR) is loaded with dlopen and called directly.
//       LIST: a file with one path per line; each file's bytes are one text.
//   pocket_tokenizer_check --model M.gguf --llama-lib DIR --pieces
//       Every token's rendered text (control tokens shown and hidden) and end-of-generation flag.
//
// Prints "parity: N texts / M tokens identical to llama.cpp" and exits 1 on any difference.
#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "text/tokenizer.h"

namespace {

using pocket::Tokenizer;

struct Case {
  std::string name;
  std::string text;
  bool parse_special = false;
  std::vector<int32_t> expected;
};

std::string read_file(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80                   ? 1
               : (c >= 0xC2 && c <= 0xDF) ? 2
               : (c >= 0xE0 && c <= 0xEF) ? 3
               : (c >= 0xF0 && c <= 0xF4) ? 4
                                          : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    const auto c1 = static_cast<unsigned char>(n > 1 ? s[i + 1] : 0);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) {
      return false;
    }
    i += n;
  }
  return true;
}

std::string printable(std::string_view s, size_t max = 80) {
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < max; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (out.size() >= max) out += "...";
  return out;
}

std::string ids_around(const std::vector<int32_t>& v, size_t at) {
  std::string s;
  const size_t from = at >= 4 ? at - 4 : 0;
  for (size_t i = from; i < v.size() && i < at + 6; ++i) {
    if (i != from) s += ',';
    s += std::to_string(v[i]);
  }
  return "[" + s + "]";
}

struct Tally {
  size_t texts = 0, tokens = 0, same_texts = 0, same_tokens = 0;
  size_t round_trips = 0, round_trip_failures = 0;
  size_t skipped = 0;
  double seconds = 0;
  size_t bytes = 0;
  int reported = 0;

  void compare(const Tokenizer& tok, const Case& c) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<int32_t> got = tok.encode(c.text, /*add_bos=*/false, c.parse_special);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bytes += c.text.size();
    ++texts;
    tokens += c.expected.size();
    if (got == c.expected) {
      ++same_texts;
      same_tokens += got.size();
    } else {
      size_t at = 0;
      while (at < got.size() && at < c.expected.size() && got[at] == c.expected[at]) ++at;
      same_tokens += at;
      if (reported++ < 10) {
        std::printf("DIFF %s (parse_special=%d) at token %zu: pocket %s vs llama.cpp %s\n  text: \"%s\"\n",
                    c.name.c_str(), c.parse_special ? 1 : 0, at, ids_around(got, at).c_str(),
                    ids_around(c.expected, at).c_str(), printable(c.text).c_str());
      }
    }
    if (valid_utf8(c.text)) {
      ++round_trips;
      // A literal "▁" in the input is read as a space (it is the tokenizer's space mark).
      std::string want;
      for (size_t i = 0; i < c.text.size(); ++i) {
        if (c.text.compare(i, 3, "\xE2\x96\x81") == 0) {
          want += ' ';
          i += 2;
        } else {
          want += c.text[i];
        }
      }
      if (tok.decode(got, /*render_control=*/c.parse_special) != want) {
        ++round_trip_failures;
        if (reported++ < 10)
          std::printf("ROUND TRIP %s: decode(encode(x)) != x\n  text: \"%s\"\n", c.name.c_str(),
                      printable(c.text).c_str());
      }
    }
  }

  int finish(const std::string& label) const {
    std::printf("%s: parity: %zu texts / %zu tokens identical to llama.cpp (of %zu texts / %zu tokens)\n",
                label.c_str(), same_texts, same_tokens, texts, tokens);
    std::printf("%s: round trip: decode(encode(x)) == x for %zu of %zu valid UTF-8 texts\n", label.c_str(),
                round_trips - round_trip_failures, round_trips);
    if (skipped)
      std::printf("%s: %zu texts skipped (llama.cpp aborts or throws on them; see above)\n", label.c_str(), skipped);
    if (seconds > 0) {
      std::printf("%s: pocket encoded %.2f MB in %.3f s (%.1f MB/s)\n", label.c_str(), bytes / 1e6, seconds,
                  bytes / 1e6 / seconds);
    }
    const bool ok = same_texts == texts && round_trip_failures == 0 && texts > 0;
    std::printf("%s: %s\n", label.c_str(), ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
  }
};

// ---- cases file (run_parity.mjs): "PTK1", then per case: u8 parse_special, u32 name len, name,
// u32 text len, text, u32 id count, i32 ids. Little endian.
bool load_cases(const std::string& path, std::vector<Case>& cases, std::string& err) {
  bool ok = false;
  const std::string data = read_file(path, &ok);
  if (!ok) {
    err = path + ": cannot open";
    return false;
  }
  size_t pos = 0;
  auto need = [&](size_t n) { return pos + n <= data.size(); };
  auto u32 = [&]() {
    uint32_t v;
    std::memcpy(&v, data.data() + pos, 4);
    pos += 4;
    return v;
  };
  if (!need(4) || data.compare(0, 4, "PTK1") != 0) {
    err = path + ": not a cases file";
    return false;
  }
  pos = 4;
  while (pos < data.size()) {
    Case c;
    if (!need(5)) break;
    c.parse_special = data[pos++] != 0;
    const uint32_t nl = u32();
    if (!need(nl + 4)) break;
    c.name = data.substr(pos, nl);
    pos += nl;
    const uint32_t tl = u32();
    if (!need(tl + 4)) break;
    c.text = data.substr(pos, tl);
    pos += tl;
    const uint32_t ni = u32();
    if (!need(size_t{ni} * 4)) break;
    c.expected.resize(ni);
    std::memcpy(c.expected.data(), data.data() + pos, size_t{ni} * 4);
    pos += size_t{ni} * 4;
    cases.push_back(std::move(c));
  }
  if (pos != data.size()) {
    err = path + ": truncated";
    return false;
  }
  return true;
}

// ---- llama.cpp's libllama, loaded from the node-llama-cpp package. The parameter struct mirrors
// include/llama.h of the llama.cpp revision that package bundles; the defaults are checked before use.
struct LlamaModelParams {
  void* devices;
  const void* tensor_buft_overrides;
  int32_t n_gpu_layers;
  int32_t split_mode;
  int32_t load_mode;
  int32_t lazy_mode;
  int32_t main_gpu;
  const float* tensor_split;
  void* progress_callback;
  void* progress_callback_user_data;
  const void* kv_overrides;
  bool vocab_only;
  bool check_tensors;
  bool use_extra_bufts;
  bool no_host;
  bool no_alloc;
  bool load_mtp;
};

class Llama {
 public:
  bool open(const std::string& dir, const std::string& model, std::string& err) {
    lib_ = dlopen((dir + "/libllama.v0.5.0.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib_) lib_ = dlopen((dir + "/libllama.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib_) {
      err = std::string("cannot load libllama from ") + dir + ": " + dlerror();
      return false;
    }
    auto sym = [&](const char* name) { return dlsym(lib_, name); };
    using LogFn = void (*)(int, const char*, void*);
    auto log_set = reinterpret_cast<void (*)(LogFn, void*)>(sym("llama_log_set"));
    auto backend_init = reinterpret_cast<void (*)()>(sym("llama_backend_init"));
    auto defaults = reinterpret_cast<LlamaModelParams (*)()>(sym("llama_model_default_params"));
    auto load = reinterpret_cast<void* (*)(const char*, LlamaModelParams)>(sym("llama_model_load_from_file"));
    auto get_vocab = reinterpret_cast<const void* (*)(const void*)>(sym("llama_model_get_vocab"));
    tokenize_ = reinterpret_cast<int32_t (*)(const void*, const char*, int32_t, int32_t*, int32_t, bool, bool)>(
        sym("llama_tokenize"));
    to_piece_ =
        reinterpret_cast<int32_t (*)(const void*, int32_t, char*, int32_t, int32_t, bool)>(sym("llama_token_to_piece"));
    is_eog_ = reinterpret_cast<bool (*)(const void*, int32_t)>(sym("llama_vocab_is_eog"));
    n_tokens_ = reinterpret_cast<int32_t (*)(const void*)>(sym("llama_vocab_n_tokens"));
    if (!log_set || !backend_init || !defaults || !load || !get_vocab || !tokenize_ || !to_piece_ || !is_eog_ ||
        !n_tokens_) {
      err = "libllama lacks an expected function";
      return false;
    }
    log_set(&quiet_log, nullptr);
    backend_init();
    LlamaModelParams p = defaults();
    if (p.n_gpu_layers != -1 || p.split_mode != 1 || p.main_gpu != 0 || p.vocab_only || !p.use_extra_bufts) {
      err = "llama_model_params layout differs from the one this checker was written for";
      return false;
    }
    p.vocab_only = true;
    model_ = load(model.c_str(), p);
    if (!model_) {
      err = "llama.cpp could not load " + model;
      return false;
    }
    vocab_ = get_vocab(model_);
    return true;
  }

  // false when llama.cpp threw.
  bool tokenize(const std::string& text, bool parse_special, std::vector<int32_t>& out) const {
    out.assign(text.size() + 16, 0);
    try {
      int32_t n = tokenize_(vocab_, text.data(), static_cast<int32_t>(text.size()), out.data(),
                            static_cast<int32_t>(out.size()), false, parse_special);
      if (n < 0) {
        out.assign(static_cast<size_t>(-n), 0);
        n = tokenize_(vocab_, text.data(), static_cast<int32_t>(text.size()), out.data(),
                      static_cast<int32_t>(out.size()), false, parse_special);
      }
      out.resize(static_cast<size_t>(std::max(n, 0)));
      return true;
    } catch (...) {
      return false;
    }
  }

  std::string piece(int32_t id, bool special) const {
    char buf[256];
    const int32_t n = to_piece_(vocab_, id, buf, sizeof(buf), 0, special);
    if (n >= 0) return std::string(buf, static_cast<size_t>(n));
    std::string big(static_cast<size_t>(-n), '\0');
    to_piece_(vocab_, id, big.data(), -n, 0, special);
    return big;
  }
  bool is_eog(int32_t id) const { return is_eog_(vocab_, id); }
  int32_t n_tokens() const { return n_tokens_(vocab_); }

 private:
  static void quiet_log(int, const char*, void*) {}
  void* lib_ = nullptr;
  void* model_ = nullptr;
  const void* vocab_ = nullptr;
  int32_t (*tokenize_)(const void*, const char*, int32_t, int32_t*, int32_t, bool, bool) = nullptr;
  int32_t (*to_piece_)(const void*, int32_t, char*, int32_t, int32_t, bool) = nullptr;
  bool (*is_eog_)(const void*, int32_t) = nullptr;
  int32_t (*n_tokens_)(const void*) = nullptr;
};

// Every token's rendering (with and without control tokens) and end-of-generation flag against llama.cpp's
// llama_token_to_piece / llama_vocab_is_eog.
int compare_pieces(const Tokenizer& tok, const Llama& llama, const std::string& label) {
  if (llama.n_tokens() != tok.n_vocab()) {
    std::printf("%s: vocabulary size %d vs llama.cpp %d\n", label.c_str(), tok.n_vocab(), llama.n_tokens());
    return 1;
  }
  size_t same = 0, eog_same = 0;
  int reported = 0;
  for (int32_t id = 0; id < tok.n_vocab(); ++id) {
    const int32_t one[1] = {id};
    bool ok = true;
    for (bool special : {false, true}) {
      const std::string ours = tok.decode(one, special), theirs = llama.piece(id, special);
      if (ours != theirs) {
        ok = false;
        if (reported++ < 10) {
          std::printf("PIECE %d (special=%d): pocket \"%s\" vs llama.cpp \"%s\"\n", id, special ? 1 : 0,
                      printable(ours).c_str(), printable(theirs).c_str());
        }
      }
    }
    same += ok;
    if (tok.is_end_of_generation(id) == llama.is_eog(id)) {
      ++eog_same;
    } else if (reported++ < 10) {
      std::printf("EOG %d: pocket %d vs llama.cpp %d\n", id, tok.is_end_of_generation(id) ? 1 : 0,
                  llama.is_eog(id) ? 1 : 0);
    }
  }
  std::printf("%s: pieces: %zu of %d tokens render identically to llama.cpp (control tokens shown and hidden)\n",
              label.c_str(), same, tok.n_vocab());
  std::printf("%s: end-of-generation flag identical for %zu of %d tokens\n", label.c_str(), eog_same, tok.n_vocab());
  const bool pass = same == static_cast<size_t>(tok.n_vocab()) && eog_same == static_cast<size_t>(tok.n_vocab());
  std::printf("%s: %s\n", label.c_str(), pass ? "PASS" : "FAIL");
  return pass ? 0 : 1;
}

// What llama.cpp's lenient UTF-8 decoder makes of the bytes at i: the code point and its length, or
// -1 for an invalid byte (becomes U+FFFD).
int64_t lenient_cpt(std::string_view s, size_t i, size_t* len) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  const unsigned char c = b(i);
  *len = 1;
  if (c < 0x80) return c;
  if (!(c & 0x40)) return -1;
  if (!(c & 0x20)) {
    if (!cont(i + 1)) return -1;
    *len = 2;
    return ((c & 0x1F) << 6) | (b(i + 1) & 0x3F);
  }
  if (!(c & 0x10)) {
    if (!cont(i + 1) || !cont(i + 2)) return -1;
    *len = 3;
    return ((c & 0x0F) << 12) | ((b(i + 1) & 0x3F) << 6) | (b(i + 2) & 0x3F);
  }
  if (!(c & 0x08)) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return -1;
    *len = 4;
    return ((c & 0x07) << 18) | ((b(i + 1) & 0x3F) << 12) | ((b(i + 2) & 0x3F) << 6) | (b(i + 3) & 0x3F);
  }
  return -1;
}

// Inputs on which llama.cpp itself fails: a multi-byte form of U+0020 becomes a raw space inside a
// BPE word (GGML_ASSERT in find_bpe_rank aborts the process), a code point above U+10FFFF throws.
const char* llama_cannot(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    const int64_t cpt = lenient_cpt(s, i, &len);
    if (cpt == 0x20 && len > 1) return "overlong encoding of a space (llama.cpp aborts)";
    if (cpt > 0x10FFFF) return "sequence above U+10FFFF (llama.cpp throws)";
    i += len;
  }
  return nullptr;
}

std::vector<Case> builtin_byte_cases() {
  std::vector<Case> v;
  auto add = [&](std::string name, std::string text) {
    for (bool special : {false, true}) v.push_back(Case{name, text, special, {}});
  };
  add("lone continuation",
      "a\x80"
      "b");
  add("continuation run", "\x80\x81\x82\xBF");
  add("truncated 2-byte at end", "caf\xC3");
  add("truncated 3-byte at end", "x\xE2\x82");
  add("truncated 4-byte at end", "x\xF0\x9F\x98");
  add("truncated mid", "a\xE2\x82 b\xF0\x9F c");
  add("lead before space", "\xC3 x");
  add("lead before newline", "\xE2\n\n");
  add("overlong NUL",
      "a\xC0\x80"
      "b");
  add("overlong newline",
      "a\xC0\x8A\xC0\x8A"
      "b");
  add("overlong slash", "\xE0\x80\xAF\xF0\x80\x80\xAF");
  add("overlong 0x7F", "\xC1\xBF");
  add("surrogate high", "\xED\xA0\x80");
  add("surrogate pair (CESU-8)", "\xED\xA0\xBD\xED\xB8\x80");
  add("FE FF", "\xFE\xFF\xFE");
  add("F8 lead", "\xF8\x88\x80\x80\x80");
  add("latin-1",
      "na\xEFve caf\xE9 r\xE9sum\xE9 \xA3"
      "100 \xBD");
  add("cp1252 quotes", "\x93quoted\x94 and \x96 dash \x85");
  add("invalid next to special",
      "\xE2<|turn>\x80"
      "user<turn|>\xC3");
  add("invalid inside special", "<|tu\x80rn>");
  add("NUL and invalid", std::string("\0\x80\0", 3));
  add("replacement char literal", "\xEF\xBF\xBD\x80");
  add("mixed valid invalid emoji", "\xF0\x9F\xA4\x96\xF0\x9F\xA4\xF0\x9F\xA4\x96");
  add("space run then invalid", "     \xFF     ");
  add("newline run then invalid", "\n\n\n\xFF\n\n");
  // Random bytes (seeded), biased towards UTF-8 structure.
  std::mt19937 rng(1234);
  const unsigned char pool[] = {'a',  'Z',  ' ',  '\n', '\t', '<',  '|',  '>',  0x00, 0x7F, 0x80, 0x8A, 0xA0, 0xBF,
                                0xC0, 0xC1, 0xC2, 0xC3, 0xDF, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
  for (int i = 0; i < 400; ++i) {
    std::string s;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) s += static_cast<char>(pool[rng() % sizeof(pool)]);
    add("random bytes " + std::to_string(i), s);
  }
  return v;
}

int usage() {
  std::fprintf(
      stderr,
      "usage: pocket_tokenizer_check --model M.gguf (--cases FILE | --llama-lib DIR (--pieces | [--builtin-bytes] "
      "[--files LIST])) [--label NAME]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, cases_path, llama_dir, files_list, label = "tokenizer";
  bool builtin = false, pieces = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--model")
      model = next();
    else if (a == "--cases")
      cases_path = next();
    else if (a == "--llama-lib")
      llama_dir = next();
    else if (a == "--files")
      files_list = next();
    else if (a == "--builtin-bytes")
      builtin = true;
    else if (a == "--pieces")
      pieces = true;
    else if (a == "--label")
      label = next();
    else
      return usage();
  }
  if (model.empty() || (cases_path.empty() && llama_dir.empty())) return usage();

  auto file = pocket::GgufFile::open(model);
  if (!file) {
    std::fprintf(stderr, "error: %s\n", file.error().message.c_str());
    return 1;
  }
  auto tok = Tokenizer::from_gguf(*file);
  if (!tok) {
    std::fprintf(stderr, "error: %s\n", tok.error().message.c_str());
    return 1;
  }

  Tally tally;
  if (!cases_path.empty()) {
    std::vector<Case> cases;
    std::string err;
    if (!load_cases(cases_path, cases, err)) {
      std::fprintf(stderr, "error: %s\n", err.c_str());
      return 1;
    }
    for (const Case& c : cases) tally.compare(*tok, c);
    return tally.finish(label);
  }

  Llama llama;
  std::string err;
  if (!llama.open(llama_dir, model, err)) {
    std::fprintf(stderr, "error: %s\n", err.c_str());
    return 1;
  }
  if (pieces) return compare_pieces(*tok, llama, label);
  std::vector<Case> cases;
  if (builtin) cases = builtin_byte_cases();
  if (!files_list.empty()) {
    bool ok = false;
    std::istringstream list(read_file(files_list, &ok));
    if (!ok) {
      std::fprintf(stderr, "error: %s: cannot open\n", files_list.c_str());
      return 1;
    }
    for (std::string path; std::getline(list, path);) {
      if (path.empty()) continue;
      std::string text = read_file(path, &ok);
      if (!ok) {
        std::fprintf(stderr, "error: %s: cannot open\n", path.c_str());
        return 1;
      }
      cases.push_back(Case{path.substr(path.find_last_of('/') + 1), std::move(text), false, {}});
    }
  }
  for (Case& c : cases) {
    if (const char* why = llama_cannot(c.text)) {
      ++tally.skipped;
      // pocket must still tokenize it without crashing and with byte fallback.
      const auto ids = tok->encode(c.text, false, c.parse_special);
      std::printf("skip %s: %s; pocket: %zu tokens\n", c.name.c_str(), why, ids.size());
      continue;
    }
    if (!llama.tokenize(c.text, c.parse_special, c.expected)) {
      ++tally.skipped;
      std::printf("skip %s: llama.cpp threw\n", c.name.c_str());
      continue;
    }
    tally.compare(*tok, c);
  }
  return tally.finish(label);
}
