// Constrained decoding for JSON output (OpenAI response_format json_object / json_schema).
//
// JsonSchema compiles the subset of JSON Schema that is enforced while generating: type (one or a
// list), enum, const, properties, required, additionalProperties (when no properties are declared),
// items, minItems/maxItems, minLength/maxLength, nullable, anyOf/oneOf whose alternatives start with
// different characters (e.g. a string or null), and $ref to a local definition ("#/$defs/x"), also
// recursive. Annotations (title, description, default, format, ...) are ignored; keywords that constrain
// values in ways not enforced (pattern, minimum, allOf, ...) are refused with an error naming them, so an
// output never silently breaks the schema. Documents produced are a subset of the valid ones: declared
// properties only, each at most once, canonical spelling of enum values and keys, at most 32 levels.
//
// JsonValidator reads a document byte by byte and refuses the first byte that cannot lead to a valid
// document; it also knows the shortest text that would complete the document so far.
//
// JsonConstraint plugs this into generation (a TokenConstraint): at each step it takes tokens in
// descending logit order, keeps the first ones whose text the validator accepts (it never scans the
// whole vocabulary unless almost nothing fits), samples among those, and ends generation when the value
// is complete. Near the end of the token budget it only accepts tokens that leave a completion short
// enough to fit, so an output cut by max_tokens still closes as valid JSON whenever the budget allows.
//
// The same validator reads Gemma's native tool-call syntax (Syntax::kGemma); ToolCallConstraint uses it
// to make a forced tool call (OpenAI tool_choice "required" or a named function) well-formed: a
// declared tool's name, arguments matching its parameter schema, and the closing marker.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pocket/result.h"
#include "runtime/generation.h"

namespace pocket {

class Tokenizer;

class JsonSchema {
 public:
  enum Type : uint8_t {
    kNull = 1,
    kBoolean = 2,
    kInteger = 4,
    kNumber = 8,
    kString = 16,
    kArray = 32,
    kObject = 64,
    kAnyType = 127,
  };
  struct Node {
    uint8_t types = kAnyType;
    std::vector<std::string> literals;  // enum/const values as canonical text; non-empty: only these
    std::vector<std::string> keys;      // declared properties as written: JSON with quotes, Gemma bare
    std::vector<int> key_nodes;
    uint64_t required = 0;  // bit i: keys[i] is required
    int additional = 0;     // node for the values of free keys (objects without declared properties)
    bool free_keys = true;  // no declared properties: any key (additionalProperties not false)
    int items = 0;          // node of array items
    int min_items = 0, max_items = 1 << 30;
    int min_length = 0, max_length = 1 << 30;
    std::vector<int> branches;               // anyOf/oneOf alternatives
    uint64_t first_chars[4] = {0, 0, 0, 0};  // bytes a value may start with
    std::string min_text;                    // the shortest valid instance
  };

  // kJson: JSON text. kGemma: Gemma's native tool-call value syntax (strings between <|"|> markers,
  // no escapes; bare object keys), for tool-call arguments.
  enum class Syntax { kJson, kGemma };

  // Any JSON value; any JSON object (json_object mode).
  static JsonSchema any();
  static JsonSchema any_object(Syntax syntax = Syntax::kJson);
  // Errors name the place and the keyword, e.g. "schema.properties.age: 'minimum' is not supported".
  static Result<JsonSchema> compile(const nlohmann::json& schema, Syntax syntax = Syntax::kJson);

  const Node& node(int i) const { return (*nodes_)[static_cast<size_t>(i)]; }
  int root() const { return root_; }
  bool gemma() const { return syntax_ == Syntax::kGemma; }

 private:
  friend class SchemaCompiler;
  std::shared_ptr<const std::vector<Node>> nodes_;  // node 0: any value
  int root_ = 0;
  Syntax syntax_ = Syntax::kJson;
};

class JsonValidator {
 public:
  explicit JsonValidator(JsonSchema schema);

  // Feeds bytes; false when one is refused (the validator is then failed and refuses everything).
  bool push(std::string_view bytes);
  // The whole value has been read; nothing more is accepted.
  bool complete() const { return !failed_ && stack_.empty(); }
  // The text so far is a whole value (a top-level number or literal may still grow, e.g. "12" → "123").
  bool can_end() const;
  bool failed() const { return failed_; }
  // The shortest text that completes the document (empty when complete), or its length.
  std::string completion() const;
  size_t completion_length() const;

  struct Frame {
    enum Kind : uint8_t { kValue, kObject, kArray, kString, kNumber, kLiteral, kBareKey };
    Kind kind = kValue;
    uint8_t phase = 0;     // object: 0 after '{', 1 before ':', 2 after a value, 3 after ','; array: 0 after
                           // '[', 1 after a value, 2 after ','; number: see number_byte
    bool is_key = false;   // string / literal: an object key
    bool integer = false;  // number: no fraction or exponent
    bool high = false;     // string: a high surrogate waits for its low half
    uint8_t esc = 0;       // string: 1 after '\', 2..5 hex digits of \u read + 2
    uint8_t utf8_need = 0, utf8_lo = 0x80, utf8_hi = 0xBF;
    uint16_t hex = 0;
    uint8_t exp_digits = 0;  // number: exponent digits (at most 2)
    uint8_t open = 0;        // Gemma string: bytes of the opening <|"|> read
    uint8_t close = 0;       // Gemma string: bytes of a possible closing <|"|> read
    int node = 0;
    int key = -1;       // object: the declared property being written (-1: a free key); literal key: matched
    int count = 0;      // array: items begun; string: characters; number: bytes
    uint64_t seen = 0;  // object: declared properties written; literal key: keys not to repeat
    const std::vector<std::string>* cands = nullptr;  // literal: the allowed texts
    std::string text;                                 // literal: read so far
  };

 private:
  bool feed(uint8_t c);
  bool start_value(uint8_t c);
  bool object_byte(uint8_t c);
  bool array_byte(uint8_t c);
  bool string_byte(uint8_t c);
  int number_byte(uint8_t c);  // a Step (json_constraint.cpp)
  int literal_byte(uint8_t c);
  int bare_key_byte(uint8_t c);
  bool gemma_string_byte(uint8_t c);
  bool begin_key(uint8_t c);
  void value_done();
  template <class Out>
  void tail(Out& out) const;

  JsonSchema schema_;
  std::vector<Frame> stack_;
  int ws_run_ = 0;  // consecutive whitespace bytes (bounded)
  bool failed_ = false;
};

// Each token's text as it appears in the output (control tokens: empty), and for each byte a token
// whose text is exactly that byte. Built once per tokenizer (262k strings) and shared.
class TokenTexts {
 public:
  explicit TokenTexts(const Tokenizer& tokenizer);
  std::string_view text(int32_t id) const;
  int32_t byte_token(uint8_t b) const { return byte_token_[b]; }
  bool is_end_of_generation(int32_t id) const;
  int32_t end_of_generation() const { return eog_; }
  int n_vocab() const { return static_cast<int>(texts_.size()); }

 private:
  std::vector<std::string> texts_;
  std::vector<int32_t> eog_ids_;
  int32_t eog_ = -1;
  int32_t byte_token_[256];
};

// Sampling restricted to what a byte-level acceptor allows: tokens are taken in descending logit order
// (sorted lazily in growing chunks), the first ones whose text is accepted are kept (top_k of them, or
// one when greedy), and the sampler chooses among those. A token is only accepted if the shortest
// completion after it still fits in the token budget.
class ByteConstraint : public TokenConstraint {
 public:
  explicit ByteConstraint(std::shared_ptr<const TokenTexts> texts) : texts_(std::move(texts)) {}

  int32_t pick(Sampler& sampler, std::span<const float> logits, std::span<const int32_t> history, int budget) override;
  // Would `id` be accepted now with `budget` tokens left (this one included)?
  bool allows(int32_t id, int budget) const;
  void accept(int32_t id);
  // Tokens whose text was checked in the last pick() (for tests: far below the vocabulary size).
  size_t last_checked() const { return checked_; }

 protected:
  // The length of the shortest completion once `bytes` are added, or -1 if they are refused.
  virtual int64_t after(std::string_view bytes) const = 0;
  virtual void take(std::string_view bytes) = 0;
  virtual std::string completion() const = 0;
  // An end-of-generation token may come now.
  virtual bool can_end() const = 0;

 private:
  std::shared_ptr<const TokenTexts> texts_;
  std::vector<std::pair<float, int32_t>> order_;
  std::vector<float> masked_;
  std::vector<int32_t> allowed_;
  size_t checked_ = 0;
};

// JSON output (response_format): a value of the schema; generation ends when it is complete.
class JsonConstraint : public ByteConstraint {
 public:
  JsonConstraint(JsonSchema schema, std::shared_ptr<const TokenTexts> texts);
  bool complete() const override { return validator_.complete(); }
  const JsonValidator& validator() const { return validator_; }

 protected:
  int64_t after(std::string_view bytes) const override;
  void take(std::string_view bytes) override { validator_.push(bytes); }
  std::string completion() const override { return validator_.completion(); }
  bool can_end() const override { return validator_.can_end() && !validator_.complete(); }

 private:
  JsonValidator validator_;
};

// A forced tool call, after a prompt that ends with "<|tool_call>call:" (the model picks one of the
// tools) or "<|tool_call>call:NAME{" (one tool): the tool name, arguments in Gemma's native syntax that
// match the tool's parameter schema, and "<tool_call|>"; generation ends there.
class ToolCallConstraint : public ByteConstraint {
 public:
  struct Tool {
    std::string name;
    JsonSchema arguments;  // Syntax::kGemma
  };
  // `named`: the prompt already names tools[0] and opens its arguments.
  ToolCallConstraint(std::vector<Tool> tools, bool named, std::shared_ptr<const TokenTexts> texts);
  bool complete() const override { return state_.tool >= 0 && state_.closed == kClose.size(); }

  static constexpr std::string_view kClose = "<tool_call|>";

 protected:
  int64_t after(std::string_view bytes) const override;
  void take(std::string_view bytes) override { feed(state_, bytes); }
  std::string completion() const override;
  bool can_end() const override { return false; }

 private:
  struct State {
    int tool = -1;                      // chosen tool (-1: its name is being written)
    std::string typed;                  // the name so far
    std::optional<JsonValidator> args;  // of the chosen tool
    size_t closed = 0;                  // bytes of kClose written
  };
  bool feed(State& s, std::string_view bytes) const;
  int best_tool(const State& s) const;

  std::vector<std::string> heads_;      // "NAME{" for each tool
  std::vector<JsonValidator> initial_;  // each tool's arguments after "{"
  State state_;
};

}  // namespace pocket
