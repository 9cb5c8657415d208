#include "common/strict_yaml.h"

#include <gtest/gtest.h>

#include "common/errors.h"

namespace grove {
namespace {

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(StrictYaml, ReadsTypedValuesAndDefaults) {
  const auto root = load_yaml_string("model:\n  d_model: 256\n  name: tiny\n  tie: true\n  lr: 3e-4\n", "x.yaml");
  StrictMap model(root["model"], "x.yaml", "model");
  EXPECT_EQ(model.required<int>("d_model"), 256);
  EXPECT_EQ(model.required<std::string>("name"), "tiny");
  EXPECT_TRUE(model.get<bool>("tie", false));
  EXPECT_DOUBLE_EQ(model.get<double>("lr", 1.0), 3e-4);
  EXPECT_EQ(model.get<int>("n_layers", 4), 4);
  EXPECT_FALSE(model.optional<int>("absent").has_value());
  EXPECT_NO_THROW(model.finish());
}

TEST(StrictYaml, UnknownKeyNamesFileLineAndClosestKey) {
  const auto root = load_yaml_string("training:\n  steps: 10\n  stpes: 20\n", "exp.yaml");
  StrictMap training(root["training"], "exp.yaml", "training");
  training.get<int>("steps", 0);
  training.get<double>("lr", 0.0);
  const std::string message = error_of([&] { training.finish(); });
  EXPECT_NE(message.find("exp.yaml:3:"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown key 'training.stpes'"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean 'steps'"), std::string::npos) << message;
}

TEST(StrictYaml, WrongTypeNamesKeyLineAndExpectation) {
  const auto root = load_yaml_string("model:\n  d_model: big\n", "exp.yaml");
  StrictMap model(root["model"], "exp.yaml", "model");
  const std::string message = error_of([&] { model.required<int>("d_model"); });
  EXPECT_NE(message.find("exp.yaml:2:"), std::string::npos) << message;
  EXPECT_NE(message.find("'model.d_model'"), std::string::npos) << message;
  EXPECT_NE(message.find("expected an integer, got 'big'"), std::string::npos) << message;
}

TEST(StrictYaml, MissingRequiredKeyAndSyntaxErrorsAreNamed) {
  const auto root = load_yaml_string("a: 1\n", "exp.yaml");
  StrictMap map(root, "exp.yaml", "");
  EXPECT_NE(error_of([&] { map.required<std::string>("name"); }).find("required key 'name' is missing"),
            std::string::npos);
  const std::string syntax = error_of([] { load_yaml_string("a: [1, 2\n", "broken.yaml"); });
  EXPECT_NE(syntax.find("broken.yaml:"), std::string::npos) << syntax;
  EXPECT_NE(error_of([] { load_yaml_file("/nonexistent/exp.yaml"); }).find("/nonexistent/exp.yaml"),
            std::string::npos);
  // A folder opened as a stream reads as an empty document: it said "required key 'name' is missing".
  EXPECT_NE(error_of([] { load_yaml_file("/usr/share"); }).find("/usr/share: is a folder; expected a YAML file"),
            std::string::npos);
}

TEST(StrictYaml, ARepeatedKeyIsAnErrorNamingBothLines) {
  // yaml-cpp keeps both and a lookup finds the first, so the override appended at line 3 would be ignored.
  const auto root = load_yaml_string("training:\n  steps: 2\n  steps: 500\n", "exp.yaml");
  const std::string message = error_of([&] { StrictMap training(root["training"], "exp.yaml", "training"); });
  EXPECT_NE(message.find("exp.yaml:3:"), std::string::npos) << message;
  EXPECT_NE(message.find("key 'training.steps' is given twice (first at line 2)"), std::string::npos) << message;
  EXPECT_NO_THROW(StrictMap(load_yaml_string("a: 1\nb: 2\n", "ok.yaml"), "ok.yaml", ""));
}

TEST(StrictYaml, ListsOfMapsCarryTheirIndexInMessages) {
  const auto root = load_yaml_string("distributions:\n  - name: en\n  - name: de\n    holdot: 0.1\n", "exp.yaml");
  StrictMap top(root, "exp.yaml", "");
  auto items = top.list_of_maps("distributions");
  ASSERT_EQ(items.size(), 2u);
  items[1].required<std::string>("name");
  items[1].get<double>("holdout", 0.05);
  const std::string message = error_of([&] { items[1].finish(); });
  EXPECT_NE(message.find("'distributions[1].holdot'"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean 'holdout'"), std::string::npos) << message;
}

}  // namespace
}  // namespace grove
