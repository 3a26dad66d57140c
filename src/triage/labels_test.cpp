// Labels YAML: a full file parses; every malformed case gives one error naming the line and key.
#include "triage/labels.h"

#include <gtest/gtest.h>

#include "runtime/json_constraint.h"

namespace pocket::triage {
namespace {

const char* kGood = R"(categories:
  - name: invoice
    description: A bill asking for payment.
    fields:
      - {name: amount, type: number, description: Total to pay}
      - {name: due, type: date}
      - name: vendor
      - {name: paid, type: boolean}
  - name: letter
    description: Personal correspondence.
policy: Flag anything with a medical diagnosis as sensitive.
flags: [sensitive, personal_data]
)";

TEST(TriageLabels, ParsesCategoriesFieldsPolicyFlags) {
  auto l = parse_labels(kGood, "labels.yaml");
  ASSERT_TRUE(l.ok()) << l.error().message;
  ASSERT_EQ(l->categories.size(), 2u);
  EXPECT_EQ(l->categories[0].name, "invoice");
  ASSERT_EQ(l->categories[0].fields.size(), 4u);
  EXPECT_EQ(l->categories[0].fields[0].type, FieldType::kNumber);
  EXPECT_EQ(l->categories[0].fields[1].type, FieldType::kDate);
  EXPECT_EQ(l->categories[0].fields[2].type, FieldType::kString);  // type defaults to string
  EXPECT_EQ(l->categories[0].fields[3].type, FieldType::kBoolean);
  EXPECT_TRUE(l->categories[1].fields.empty());
  EXPECT_EQ(l->policy, "Flag anything with a medical diagnosis as sensitive.");
  EXPECT_EQ(l->flags, (std::vector<std::string>{"sensitive", "personal_data"}));
  EXPECT_EQ(l->find("letter"), &l->categories[1]);
  EXPECT_EQ(l->find("nope"), nullptr);
}

TEST(TriageLabels, SchemasCompileForConstrainedDecoding) {
  auto l = parse_labels(kGood);
  ASSERT_TRUE(l.ok());
  for (const Category& c : l->categories) {
    auto s = JsonSchema::compile(l->fields_schema(c));
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  }
  auto f = JsonSchema::compile(l->flags_schema());
  EXPECT_TRUE(f.ok());
  const auto schema = l->fields_schema(l->categories[0]);
  EXPECT_EQ(schema["required"].size(), 4u);
  EXPECT_EQ(schema["properties"]["due"]["maxLength"], 10);
  EXPECT_EQ(l->flags_schema()["properties"]["flags"]["items"]["enum"].size(), 2u);
}

struct BadCase {
  const char* yaml;
  const char* expected;  // substring of the error
};

TEST(TriageLabels, ErrorsNameLineAndKey) {
  const BadCase cases[] = {
      {"categories: [", "labels.yaml:1: not valid YAML"},
      {"- a\n- b\n", "labels.yaml:1: top level: must be a map"},
      {"policy: x\n", "categories: missing"},
      {"categories: []\n", "categories: must be a non-empty list"},
      {"categories:\n  - name: a\n", "labels.yaml:2: categories[0].description: missing"},
      {"categories:\n  - description: x\n", "categories[0].name: missing"},
      {"categories:\n  - {name: a, description: x}\n  - {name: a, description: y}\n",
       "labels.yaml:3: categories[1].name: 'a' appears twice"},
      {"categories:\n  - {name: a/b, description: x}\n", "categories[0].name: 'a/b' is not a valid name"},
      {"categories:\n  - {name: .., description: x}\n", "is not a valid name"},
      {"categories:\n  - name: a\n    description: x\n    fields:\n      - {name: n, type: int}\n",
       "labels.yaml:5: categories[0].fields[0].type: 'int' is not one of string, number, date, boolean"},
      {"categories:\n  - name: a\n    description: x\n    fields: {name: n}\n", "categories[0].fields: must be a list"},
      {"categories:\n  - name: a\n    description: x\n    colour: red\n",
       "labels.yaml:4: categories[0].colour: unknown key"},
      {"categories:\n  - {name: a, description: [x]}\n", "categories[0].description: must be a text"},
      {"categories:\n  - {name: a, description: x}\nflags: [s]\n", "flags: given without a policy"},
      {"categories:\n  - {name: a, description: x}\npolicy: p\nflags: [\"a b/c\"]\n", "flags[0]: must be a name"},
      {"categories:\n  - {name: a, description: x}\ncolor: 1\n", "labels.yaml:3: color: unknown key"},
  };
  for (const BadCase& c : cases) {
    auto l = parse_labels(c.yaml, "labels.yaml");
    ASSERT_FALSE(l.ok()) << c.yaml;
    EXPECT_NE(l.error().message.find(c.expected), std::string::npos) << l.error().message << "\nwanted: " << c.expected;
  }
}

TEST(TriageLabels, MissingFileIsNamed) {
  auto l = load_labels("/nonexistent/labels.yaml");
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message.find("/nonexistent/labels.yaml"), std::string::npos);
}

}  // namespace
}  // namespace pocket::triage
