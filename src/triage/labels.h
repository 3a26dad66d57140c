// The triage labels file (YAML): the categories a file can be sorted into, the fields to extract for
// each, and an optional policy whose flags the model raises.
//
//   categories:
//     - name: invoice                       # [A-Za-z0-9 _.-], unique; becomes a folder name on apply
//       description: A bill asking for payment.
//       fields:                             # optional
//         - {name: amount, type: number, description: Total to pay}
//         - {name: due, type: date}         # types: string | number | date | boolean
//   policy: Flag anything with a medical diagnosis as sensitive.   # optional
//   flags: [sensitive, personal_data]      # optional: the only flag names allowed
//
// Errors name the line and the key ("labels.yaml:7: categories[2].fields[0].type: 'int' is not one
// of string, number, date, boolean").
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace pocket::triage {

enum class FieldType { kString, kNumber, kDate, kBoolean };
const char* field_type_name(FieldType t);

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::kString;
  std::string description;
};

struct Category {
  std::string name;
  std::string description;
  std::vector<FieldSpec> fields;
};

struct LabelSet {
  std::vector<Category> categories;
  std::string policy;              // "" = none (no flags are asked for)
  std::vector<std::string> flags;  // allowed flag names; empty = any short string

  const Category* find(const std::string& name) const;
  // The JSON schema the fields of `category` are generated under: an object with every field
  // required, each of its type or null (not in the file); dates as "YYYY-MM-DD" (10 characters).
  nlohmann::json fields_schema(const Category& category) const;
  // {"flags": [...]} with at most 8 entries, each one of `flags` (or a string of ≤ 40 characters).
  nlohmann::json flags_schema() const;
};

// Parses the YAML text; `name` (the file name) prefixes error messages.
Result<LabelSet> parse_labels(const std::string& yaml_text, const std::string& name = "labels");
Result<LabelSet> load_labels(const std::string& path);

}  // namespace pocket::triage
