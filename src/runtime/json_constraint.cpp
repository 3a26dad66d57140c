#include "runtime/json_constraint.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>

#include "text/tokenizer.h"

namespace pocket {
namespace {

using Node = JsonSchema::Node;

constexpr size_t kMaxDepth = 32;        // nesting levels of objects and arrays
constexpr int kMaxWhitespace = 32;      // consecutive whitespace bytes outside strings
constexpr int kMaxNumber = 32;          // bytes of one number
constexpr int kMaxInteger = 19;         // bytes of an integer (fits in 64 bits)
constexpr size_t kMaxCandidates = 256;  // kept per step when top_k does not limit
constexpr size_t kMaxScan = 32768;      // tokens checked per step before writing the completion instead

const std::vector<std::string> kBooleans = {"true", "false"};
const std::vector<std::string> kNullWord = {"null"};

bool is_ws(uint8_t c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
bool has_first(const Node& n, uint8_t c) { return (n.first_chars[c >> 6] >> (c & 63)) & 1; }
int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

enum Step { kRefused = 0, kTaken = 1, kEnded = 2 };  // kEnded: the value ended before this byte

// Appends text, or only counts it.
struct TextOut {
  std::string s;
  void add(std::string_view t) { s += t; }
  void add(char c) { s += c; }
};
struct LengthOut {
  size_t n = 0;
  void add(std::string_view t) { n += t.size(); }
  void add(char) { ++n; }
};

}  // namespace

JsonValidator::JsonValidator(JsonSchema schema) : schema_(std::move(schema)) {
  Frame root;
  root.node = schema_.root();
  stack_.push_back(root);
}

bool JsonValidator::push(std::string_view bytes) {
  for (char c : bytes) {
    if (failed_ || !feed(static_cast<uint8_t>(c))) {
      failed_ = true;
      return false;
    }
  }
  return !failed_;
}

bool JsonValidator::feed(uint8_t c) {
  for (;;) {
    if (stack_.empty()) return false;
    int step = kRefused;
    switch (stack_.back().kind) {
      case Frame::kValue:
        return start_value(c);
      case Frame::kObject:
        return object_byte(c);
      case Frame::kArray:
        return array_byte(c);
      case Frame::kString:
        return string_byte(c);
      case Frame::kNumber:
        step = number_byte(c);
        break;
      case Frame::kLiteral:
        step = literal_byte(c);
        break;
      case Frame::kBareKey:
        step = bare_key_byte(c);
        break;
    }
    if (step != kEnded) return step == kTaken;  // else the byte goes to the container
  }
}

bool JsonValidator::start_value(uint8_t c) {
  Frame& f = stack_.back();
  if (is_ws(c)) return ++ws_run_ <= kMaxWhitespace;
  int n = f.node;
  while (!schema_.node(n).branches.empty()) {  // anyOf: the alternative that starts with c
    int next = -1;
    for (int b : schema_.node(n).branches) {
      if (has_first(schema_.node(b), c)) next = b;
    }
    if (next < 0) return false;
    n = next;
  }
  const Node& nd = schema_.node(n);
  if (!has_first(nd, c)) return false;
  ws_run_ = 0;
  f.node = n;
  if (!nd.literals.empty() || c == 't' || c == 'f' || c == 'n') {
    f.kind = Frame::kLiteral;
    f.cands = !nd.literals.empty() ? &nd.literals : c == 'n' ? &kNullWord : &kBooleans;
    f.text.clear();
    return literal_byte(c) == kTaken;
  }
  switch (c) {
    case '{':
    case '[':
      if (stack_.size() > kMaxDepth) return false;
      f.kind = c == '{' ? Frame::kObject : Frame::kArray;
      f.phase = 0;
      f.count = 0;
      f.seen = 0;
      return true;
    case '"':  // JSON
    case '<':  // Gemma: the first byte of <|"|>
      f.kind = Frame::kString;
      f.count = 0;
      f.open = 1;
      f.close = 0;
      return true;
    default:
      f.kind = Frame::kNumber;
      f.integer = !(nd.types & JsonSchema::kNumber);
      f.phase = 0;
      f.count = 0;
      return number_byte(c) == kTaken;
  }
}

void JsonValidator::value_done() {
  Frame done = std::move(stack_.back());
  stack_.pop_back();
  if (stack_.empty() || !done.is_key) return;
  Frame& obj = stack_.back();  // a key: remember which property it names
  obj.key = done.kind == Frame::kLiteral ? done.key : -1;
  if (obj.key >= 0) obj.seen |= uint64_t{1} << obj.key;
}

bool JsonValidator::object_byte(uint8_t c) {
  const size_t at = stack_.size() - 1;
  Frame& f = stack_[at];
  const Node& nd = schema_.node(f.node);
  if (is_ws(c)) return ++ws_run_ <= kMaxWhitespace;
  ws_run_ = 0;
  // Declared properties all written: no more keys (free keys never run out).
  const uint64_t all = nd.keys.size() >= 64 ? ~uint64_t{0} : (uint64_t{1} << nd.keys.size()) - 1;
  const bool more_keys = nd.free_keys || (f.seen & all) != all;
  auto close = [&] {
    if (nd.required & ~f.seen) return false;
    value_done();
    return true;
  };
  switch (f.phase) {
    case 0:
      return c == '}' ? close() : more_keys && begin_key(c);
    case 1: {
      if (c != ':') return false;
      f.phase = 2;
      Frame v;
      v.node = f.key >= 0 ? nd.key_nodes[static_cast<size_t>(f.key)] : nd.additional;
      stack_.push_back(v);
      return true;
    }
    case 2:
      if (c == '}') return close();
      if (c != ',' || !more_keys) return false;
      f.phase = 3;
      return true;
    default:
      return more_keys && begin_key(c);
  }
}

// A key starts: JSON '"', or in Gemma's syntax its first byte (keys are bare there).
bool JsonValidator::begin_key(uint8_t c) {
  Frame& f = stack_.back();
  const Node& nd = schema_.node(f.node);
  const bool gemma = schema_.gemma();
  if (!gemma && c != '"') return false;
  f.phase = 1;
  Frame k;
  k.is_key = true;
  if (nd.free_keys) {
    k.kind = gemma ? Frame::kBareKey : Frame::kString;  // node 0: no length limits
    k.open = 1;
  } else {
    k.kind = Frame::kLiteral;
    k.cands = &nd.keys;
    k.seen = f.seen;
    k.node = f.node;
    if (!gemma) k.text = "\"";
  }
  stack_.push_back(std::move(k));
  if (!gemma) return true;
  return (stack_.back().kind == Frame::kLiteral ? literal_byte(c) : bare_key_byte(c)) == kTaken;
}

int JsonValidator::bare_key_byte(uint8_t c) {
  Frame& f = stack_.back();
  if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
    if (++f.count > 64) return kRefused;
    ws_run_ = 0;
    return kTaken;
  }
  if (f.count == 0) return kRefused;
  value_done();
  return kEnded;
}

bool JsonValidator::array_byte(uint8_t c) {
  Frame& f = stack_.back();
  const Node& nd = schema_.node(f.node);
  if (is_ws(c)) return ++ws_run_ <= kMaxWhitespace;
  if (f.phase == 1) {
    ws_run_ = 0;
    if (c == ',' && f.count < nd.max_items) return f.phase = 2, true;
    if (c != ']' || f.count < nd.min_items) return false;
    value_done();
    return true;
  }
  if (c == ']' && f.phase == 0) {
    if (nd.min_items > 0) return false;
    ws_run_ = 0;
    value_done();
    return true;
  }
  if (f.count >= nd.max_items) return false;
  ++f.count;
  f.phase = 1;
  Frame v;
  v.node = nd.items;
  stack_.push_back(v);
  return start_value(c);
}

namespace {

// A UTF-8 lead byte: how many continuation bytes follow and the range of the first (no overlong
// forms, no surrogates, nothing above U+10FFFF).
bool utf8_lead(JsonValidator::Frame& f, uint8_t c) {
  if (c >= 0xC2 && c <= 0xDF) {
    f.utf8_need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    f.utf8_need = 2, f.utf8_lo = c == 0xE0 ? 0xA0 : 0x80, f.utf8_hi = c == 0xED ? 0x9F : 0xBF;
  } else if (c >= 0xF0 && c <= 0xF4) {
    f.utf8_need = 3, f.utf8_lo = c == 0xF0 ? 0x90 : 0x80, f.utf8_hi = c == 0xF4 ? 0x8F : 0xBF;
  } else {
    return false;
  }
  return true;
}

constexpr std::string_view kGemmaQuote = "<|\"|>";

}  // namespace

// Gemma strings: <|"|>text<|"|>, no escapes; a "<" in the text may start the closing marker.
bool JsonValidator::gemma_string_byte(uint8_t c) {
  Frame& f = stack_.back();
  const Node& nd = schema_.node(f.node);
  ws_run_ = 0;
  if (f.open < kGemmaQuote.size()) return c == static_cast<uint8_t>(kGemmaQuote[f.open]) && ++f.open;
  if (f.utf8_need) {
    if (c < f.utf8_lo || c > f.utf8_hi) return false;
    --f.utf8_need, f.utf8_lo = 0x80, f.utf8_hi = 0xBF;
    return true;
  }
  if (f.close > 0) {
    if (c == static_cast<uint8_t>(kGemmaQuote[f.close])) {
      if (++f.close < kGemmaQuote.size()) return true;
      if (f.count < nd.min_length) return false;
      value_done();
      return true;
    }
    f.count += f.close, f.close = 0;  // it was text after all
    if (f.count > nd.max_length) return false;
  }
  if (c == '<') return f.close = 1, true;
  if (f.count >= nd.max_length || (c < 0x20 && c != '\n' && c != '\t' && c != '\r')) return false;
  if (c >= 0x80 && !utf8_lead(f, c)) return false;
  ++f.count;
  return true;
}

bool JsonValidator::string_byte(uint8_t c) {
  if (schema_.gemma()) return gemma_string_byte(c);
  Frame& f = stack_.back();
  const Node& nd = schema_.node(f.node);
  ws_run_ = 0;
  if (f.utf8_need) {
    if (c < f.utf8_lo || c > f.utf8_hi) return false;
    --f.utf8_need, f.utf8_lo = 0x80, f.utf8_hi = 0xBF;
    return true;
  }
  if (f.esc == 1) {
    if (c == 'u') return f.esc = 2, f.hex = 0, true;
    if (f.high || !std::strchr("\"\\/bfnrt", c) || c == 0) return false;
    f.esc = 0, ++f.count;
    return true;
  }
  if (f.esc >= 2) {
    const int d = hex_value(c);
    if (d < 0) return false;
    f.hex = static_cast<uint16_t>(f.hex * 16 + d);
    const int read = f.esc - 1;
    if (read == 1 && f.high && d != 0xD) return false;
    if (read == 2 && (f.hex >= 0xDC && f.hex <= 0xDF) != f.high) return false;  // lone low / missing low half
    if (++f.esc < 6) return true;
    f.esc = 0;
    if (!f.high && f.hex >= 0xD800 && f.hex <= 0xDBFF) return f.high = true, true;
    f.high = false, ++f.count;
    return true;
  }
  if (f.high) return c == '\\' && (f.esc = 1, true);
  if (c == '"') {
    if (f.count < nd.min_length) return false;
    value_done();
    return true;
  }
  if (f.count >= nd.max_length || c < 0x20) return false;
  if (c == '\\') return f.esc = 1, true;
  if (c >= 0x80 && !utf8_lead(f, c)) return false;
  ++f.count;
  return true;
}

// Number phases: 0 start, 1 after '-', 2 after a leading 0, 3 integer digits, 4 after '.', 5 fraction
// digits, 6 after 'e', 7 after the exponent sign, 8 exponent digits. Complete in 2, 3, 5 and 8.
int JsonValidator::number_byte(uint8_t c) {
  Frame& f = stack_.back();
  const bool digit = c >= '0' && c <= '9';
  auto take = [&](uint8_t next) {
    if (++f.count > (f.integer ? kMaxInteger : kMaxNumber)) return kRefused;
    f.phase = next;
    ws_run_ = 0;
    return kTaken;
  };
  switch (f.phase) {
    case 0:
      if (c == '-') return take(1);
      [[fallthrough]];
    case 1:
      return c == '0' ? take(2) : digit ? take(3) : kRefused;
    case 2:
    case 3:
      if (f.phase == 3 && digit) return take(3);
      if (!f.integer && c == '.') return take(4);
      if (!f.integer && (c == 'e' || c == 'E')) return take(6);
      break;
    case 4:
      return digit ? take(5) : kRefused;
    case 5:
      if (digit) return take(5);
      if (c == 'e' || c == 'E') return take(6);
      break;
    case 6:
      if (c == '+' || c == '-') return take(7);
      [[fallthrough]];
    case 7:
      return digit ? (f.exp_digits = 1, take(8)) : kRefused;
    default:
      if (digit) return ++f.exp_digits > 2 ? kRefused : take(8);  // parsers refuse 1e400
      break;
  }
  value_done();
  return kEnded;
}

int JsonValidator::literal_byte(uint8_t c) {
  Frame& f = stack_.back();
  const std::vector<std::string>& cands = *f.cands;
  const size_t n = f.text.size();
  int match = -1;       // a candidate equal to the text read so far
  bool grows = false;   // a candidate continues with c
  bool longer = false;  // ... and is longer than text + c
  for (size_t i = 0; i < cands.size(); ++i) {
    if (f.is_key && ((f.seen >> i) & 1)) continue;
    const std::string& t = cands[i];
    if (t.size() < n || t.compare(0, n, f.text) != 0) continue;
    if (t.size() == n) match = static_cast<int>(i);
    if (t.size() > n && static_cast<uint8_t>(t[n]) == c) {
      grows = true;
      longer = longer || t.size() > n + 1;
    }
  }
  if (!grows) {
    if (match < 0) return kRefused;
    f.key = match;
    value_done();
    return kEnded;
  }
  f.text += static_cast<char>(c);
  ws_run_ = 0;
  if (!longer) {  // exactly a candidate, which nothing extends: done now (e.g. a closing quote)
    for (size_t i = 0; i < cands.size(); ++i) {
      if (cands[i] == f.text && !(f.is_key && ((f.seen >> i) & 1))) f.key = static_cast<int>(i);
    }
    value_done();
  }
  return kTaken;
}

bool JsonValidator::can_end() const {
  if (failed_) return false;
  if (stack_.empty()) return true;
  if (stack_.size() != 1) return false;
  const Frame& f = stack_.back();
  if (f.kind == Frame::kNumber) return f.phase == 2 || f.phase == 3 || f.phase == 5 || f.phase == 8;
  if (f.kind == Frame::kLiteral) return std::find(f.cands->begin(), f.cands->end(), f.text) != f.cands->end();
  return false;
}

// The shortest completion, frame by frame from the innermost: each frame closes assuming the ones above
// it have closed. An object under a key being written chooses that key with the object's cost in mind.
template <class Out>
void JsonValidator::tail(Out& out) const {
  int key_choice = -2;  // the key the frame above chose for the object below it (-1: a free key)
  auto term_len = [&](const Node& nd, size_t k) {
    return nd.keys[k].size() + 1 + schema_.node(nd.key_nodes[k]).min_text.size();
  };
  auto missing = [&](const Node& nd, uint64_t seen, bool first_has_comma) {
    bool comma = first_has_comma;
    for (size_t k = 0; k < nd.keys.size(); ++k) {
      if (!((nd.required >> k) & 1) || ((seen >> k) & 1)) continue;
      if (comma) out.add(',');
      comma = true;
      out.add(nd.keys[k]), out.add(':'), out.add(schema_.node(nd.key_nodes[k]).min_text);
    }
  };
  for (size_t i = stack_.size(); i-- > 0;) {
    const Frame& f = stack_[i];
    const Node& nd = schema_.node(f.node);
    switch (f.kind) {
      case Frame::kValue:
        out.add(nd.min_text);
        break;
      case Frame::kNumber:
        if (f.phase == 0 || f.phase == 1 || f.phase == 4 || f.phase == 6 || f.phase == 7) out.add('0');
        break;
      case Frame::kString: {
        int chars = f.count;
        if (schema_.gemma()) {  // finish the opening marker or a character, then the closing marker
          if (f.open < kGemmaQuote.size()) out.add(kGemmaQuote.substr(f.open));
          for (int k = 0; k < f.utf8_need; ++k) out.add(static_cast<char>(k ? 0x80 : f.utf8_lo));
          if (f.close > 0 && chars >= nd.min_length) {
            out.add(kGemmaQuote.substr(f.close));
            break;
          }
          for (chars += f.close; chars < nd.min_length; ++chars) out.add('a');
          out.add(kGemmaQuote);
          break;
        }
        if (f.utf8_need) {
          out.add(static_cast<char>(f.utf8_lo));
          for (int k = 1; k < f.utf8_need; ++k) out.add('\x80');
        } else if (f.esc == 1) {
          out.add(f.high ? "uDC00" : "n"), ++chars;
        } else if (f.esc >= 2) {
          const int read = f.esc - 2, left = 4 - read;
          const int v = f.hex << (4 * left);
          // A low half must be DC00-DFFF: its typed digits are a prefix of "DCxx".
          out.add(f.high ? std::string_view("DC00").substr(static_cast<size_t>(read))
                         : std::string_view("0000").substr(static_cast<size_t>(read))),
              ++chars;
          if (!f.high && v >= 0xD800 && v <= 0xDBFF) out.add("\\uDC00");
        } else if (f.high) {
          out.add("\\uDC00"), ++chars;
        }
        for (; chars < nd.min_length; ++chars) out.add('a');
        out.add('"');
        if (f.is_key) key_choice = -1;
        break;
      }
      case Frame::kBareKey:
        if (f.count == 0) out.add('k');
        key_choice = -1;
        break;
      case Frame::kLiteral: {
        size_t best = std::numeric_limits<size_t>::max();
        int pick = -1;
        const Node* obj = f.is_key ? &schema_.node(f.node) : nullptr;
        for (size_t k = 0; k < f.cands->size(); ++k) {
          const std::string& t = (*f.cands)[k];
          if ((f.is_key && ((f.seen >> k) & 1)) || t.size() < f.text.size() || t.compare(0, f.text.size(), f.text)) {
            continue;
          }
          size_t cost = t.size();
          if (obj) {  // the key, its value, and the required properties still missing after it
            cost += 1 + schema_.node(obj->key_nodes[k]).min_text.size();
            for (size_t r = 0; r < obj->keys.size(); ++r) {
              if (r != k && ((obj->required >> r) & 1) && !((f.seen >> r) & 1)) cost += 1 + term_len(*obj, r);
            }
          }
          if (cost < best) best = cost, pick = static_cast<int>(k);
        }
        if (pick >= 0) out.add(std::string_view((*f.cands)[static_cast<size_t>(pick)]).substr(f.text.size()));
        if (f.is_key) key_choice = pick;
        break;
      }
      case Frame::kObject: {
        uint64_t seen = f.seen;
        int phase = f.phase;
        if (phase == 1) {
          const int k = key_choice != -2 ? key_choice : f.key;
          out.add(':');
          out.add(schema_.node(k >= 0 ? nd.key_nodes[static_cast<size_t>(k)] : nd.additional).min_text);
          if (k >= 0) seen |= uint64_t{1} << k;
          phase = 2;
        }
        if (phase == 3 && !(nd.required & ~seen)) {  // one more member is due: the cheapest
          if (nd.free_keys) {
            out.add(schema_.gemma() ? "k:" : "\"\":"), out.add(schema_.node(nd.additional).min_text);
          } else {
            size_t best = nd.keys.size();
            for (size_t k = 0; k < nd.keys.size(); ++k) {
              if (!((seen >> k) & 1) && (best == nd.keys.size() || term_len(nd, k) < term_len(nd, best))) best = k;
            }
            if (best < nd.keys.size()) {
              out.add(nd.keys[best]), out.add(':'), out.add(schema_.node(nd.key_nodes[best]).min_text);
            }
          }
        }
        missing(nd, seen, phase == 2);
        out.add('}');
        key_choice = -2;
        break;
      }
      case Frame::kArray: {
        const std::string& item = schema_.node(nd.items).min_text;
        int have = f.count;
        if (f.phase == 2) out.add(item), ++have;
        for (; have < nd.min_items; ++have) {
          if (have > 0) out.add(',');
          out.add(item);
        }
        out.add(']');
        break;
      }
    }
  }
}

std::string JsonValidator::completion() const {
  TextOut out;
  if (!failed_) tail(out);
  return std::move(out.s);
}

size_t JsonValidator::completion_length() const {
  LengthOut out;
  if (!failed_) tail(out);
  return out.n;
}

TokenTexts::TokenTexts(const Tokenizer& tokenizer) {
  const int V = tokenizer.n_vocab();
  texts_.resize(static_cast<size_t>(V));
  std::fill(std::begin(byte_token_), std::end(byte_token_), -1);
  for (int32_t id = 0; id < V; ++id) {
    if (tokenizer.is_control(id)) continue;
    std::string& t = texts_[static_cast<size_t>(id)];
    t = tokenizer.decode(std::span<const int32_t>(&id, 1));
    if (t.size() != 1) continue;
    int32_t& slot = byte_token_[static_cast<uint8_t>(t[0])];
    if (slot < 0 || tokenizer.type(id) == TokenType::kNormal) slot = id;  // prefer the ordinary token
  }
  auto eog = tokenizer.end_of_generation_ids();
  eog_ids_.assign(eog.begin(), eog.end());
  eog_ = eog_ids_.empty() ? -1 : eog_ids_.front();
}

std::string_view TokenTexts::text(int32_t id) const {
  return id >= 0 && id < n_vocab() ? std::string_view(texts_[static_cast<size_t>(id)]) : std::string_view();
}

bool TokenTexts::is_end_of_generation(int32_t id) const {
  return std::binary_search(eog_ids_.begin(), eog_ids_.end(), id);
}

bool ByteConstraint::allows(int32_t id, int budget) const {
  if (texts_->is_end_of_generation(id)) return can_end();
  const std::string_view t = texts_->text(id);
  if (t.empty()) return false;
  const int64_t rest = after(t);
  // Leave room to close: every later token adds at least one byte of the completion.
  return rest >= 0 && rest + 1 <= std::max(budget, 1);
}

void ByteConstraint::accept(int32_t id) {
  if (!texts_->is_end_of_generation(id)) take(texts_->text(id));
}

int32_t ByteConstraint::pick(Sampler& sampler, std::span<const float> logits, std::span<const int32_t> history,
                             int budget) {
  const SamplingParams& p = sampler.params();
  const size_t V = std::min(logits.size(), static_cast<size_t>(texts_->n_vocab()));
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  // Candidates in descending order of the biased logits, sorted lazily in growing chunks.
  order_.resize(V);
  for (size_t i = 0; i < V; ++i) order_[i] = {logits[i], static_cast<int32_t>(i)};
  for (const auto& [id, bias] : p.logit_bias) {
    if (id >= 0 && static_cast<size_t>(id) < V) order_[static_cast<size_t>(id)].first += bias;
  }
  for (int32_t id : p.suppress) {
    if (id >= 0 && static_cast<size_t>(id) < V) order_[static_cast<size_t>(id)].first = kNegInf;
  }
  const size_t want = p.temperature <= 0.0f ? 1 : p.top_k > 0 ? static_cast<size_t>(p.top_k) : kMaxCandidates;
  auto by_logit = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  allowed_.clear();
  checked_ = 0;
  for (size_t done = 0, chunk = 64; allowed_.size() < want && done < V && checked_ < kMaxScan; chunk *= 8) {
    const size_t end = std::min(V, done + chunk);
    std::partial_sort(order_.begin() + static_cast<std::ptrdiff_t>(done),
                      order_.begin() + static_cast<std::ptrdiff_t>(end), order_.end(), by_logit);
    for (; done < end && allowed_.size() < want && checked_ < kMaxScan; ++done) {
      if (order_[done].first == kNegInf) {
        done = V;
        break;
      }
      ++checked_;
      if (allows(order_[done].second, budget)) allowed_.push_back(order_[done].second);
    }
  }
  int32_t tok;
  if (allowed_.empty()) {
    // Nothing the model ranks fits (e.g. the budget demands the closing text): write the completion.
    const std::string rest = completion();
    tok = !rest.empty() ? texts_->byte_token(static_cast<uint8_t>(rest[0]))
          : can_end()   ? texts_->end_of_generation()
                        : -1;
    if (tok < 0) return -1;
  } else if (allowed_.size() == 1 || p.temperature <= 0.0f) {
    tok = allowed_.front();
  } else {
    masked_.assign(logits.size(), kNegInf);
    for (int32_t id : allowed_) masked_[static_cast<size_t>(id)] = logits[static_cast<size_t>(id)];
    tok = sampler.sample(masked_, history);
    if (std::find(allowed_.begin(), allowed_.end(), tok) == allowed_.end()) tok = allowed_.front();
  }
  accept(tok);
  return tok;
}

JsonConstraint::JsonConstraint(JsonSchema schema, std::shared_ptr<const TokenTexts> texts)
    : ByteConstraint(std::move(texts)), validator_(std::move(schema)) {}

int64_t JsonConstraint::after(std::string_view bytes) const {
  JsonValidator v = validator_;
  return v.push(bytes) ? static_cast<int64_t>(v.completion_length()) : -1;
}

ToolCallConstraint::ToolCallConstraint(std::vector<Tool> tools, bool named, std::shared_ptr<const TokenTexts> texts)
    : ByteConstraint(std::move(texts)) {
  for (Tool& t : tools) {
    heads_.push_back(t.name + "{");
    JsonValidator v(std::move(t.arguments));
    v.push("{");
    initial_.push_back(std::move(v));
  }
  if (named && !initial_.empty()) state_.tool = 0, state_.args = initial_[0];
}

bool ToolCallConstraint::feed(State& s, std::string_view bytes) const {
  for (char c : bytes) {
    if (s.tool < 0) {  // the name, then "{"
      s.typed += c;
      bool any = false;
      for (size_t i = 0; i < heads_.size(); ++i) {
        if (heads_[i].compare(0, s.typed.size(), s.typed) != 0) continue;
        any = true;
        if (heads_[i].size() == s.typed.size()) s.tool = static_cast<int>(i), s.args = initial_[i];
      }
      if (!any) return false;
    } else if (!s.args->complete()) {
      if (!s.args->push(std::string_view(&c, 1))) return false;
    } else if (s.closed < kClose.size() && c == kClose[s.closed]) {
      ++s.closed;
    } else {
      return false;
    }
  }
  return true;
}

// The tool (when still open) whose name and shortest arguments complete soonest.
int ToolCallConstraint::best_tool(const State& s) const {
  int best = -1;
  size_t len = 0;
  for (size_t i = 0; i < heads_.size(); ++i) {
    if (heads_[i].compare(0, s.typed.size(), s.typed) != 0) continue;
    const size_t l = heads_[i].size() + initial_[i].completion_length();
    if (best < 0 || l < len) best = static_cast<int>(i), len = l;
  }
  return best;
}

int64_t ToolCallConstraint::after(std::string_view bytes) const {
  State s = state_;
  if (!feed(s, bytes)) return -1;
  if (s.tool >= 0) return static_cast<int64_t>(s.args->completion_length() + kClose.size() - s.closed);
  const int t = best_tool(s);
  const size_t i = static_cast<size_t>(t);
  return t < 0 ? -1
               : static_cast<int64_t>(heads_[i].size() - s.typed.size() + initial_[i].completion_length() +
                                      kClose.size());
}

std::string ToolCallConstraint::completion() const {
  if (state_.tool >= 0) return state_.args->completion() + std::string(kClose.substr(state_.closed));
  const int t = best_tool(state_);
  if (t < 0) return {};
  const size_t i = static_cast<size_t>(t);
  return heads_[i].substr(state_.typed.size()) + initial_[i].completion() + std::string(kClose);
}

}  // namespace pocket
