// The fused kernels' switch and launch counter (model/fused_switch.h) on their own, without a GPU: counts by name
// prefix, names of the same text passed from two addresses, more names than the counter's lock-free table holds,
// and the scoped switch restoring the previous state.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "model/fused_switch.h"

namespace grove::model::fused {
namespace {

TEST(FusedSwitch, LaunchesAreCountedByNamePrefix) {
  static const char alpha_again[] = "grove-test::alpha (copy)";
  const uint64_t before = launches();
  for (int i = 0; i < 3; ++i) count_launch("grove-test::alpha (copy)");
  count_launch(alpha_again);  // the same text at another address
  for (int i = 0; i < 2; ++i) count_launch("grove-test::beta");
  EXPECT_EQ(launches() - before, 6u);
  EXPECT_EQ(launches("grove-test::alpha"), 4u);
  EXPECT_EQ(launches("grove-test::beta"), 2u);
  EXPECT_EQ(launches("grove-test::"), 6u);
  EXPECT_EQ(launches("grove-test::gamma"), 0u);
}

TEST(FusedSwitch, NamesBeyondTheTableAreStillCounted) {
  static std::array<std::string, 400> names;  // static: the counter keeps names by address
  for (size_t i = 0; i < names.size(); ++i) names[i] = "grove-test-many::" + std::to_string(i) + ".";
  for (size_t i = 0; i < names.size(); ++i) {
    for (size_t n = 0; n <= i % 3; ++n) count_launch(names[i].c_str());
  }
  uint64_t expected = 0;
  for (size_t i = 0; i < names.size(); ++i) expected += i % 3 + 1;
  EXPECT_EQ(launches("grove-test-many::"), expected);
  EXPECT_EQ(launches("grove-test-many::399."), 1u);
  EXPECT_EQ(launches("grove-test-many::398."), 3u);
  EXPECT_EQ(launches("grove-test-many::7."), 2u);
}

TEST(FusedSwitch, ScopedSwitchRestoresThePreviousState) {
  const bool initial = enabled();
  {
    ScopedSwitch off(false);
    EXPECT_FALSE(enabled());
    {
      ScopedSwitch on(true);
      EXPECT_TRUE(enabled());
    }
    EXPECT_FALSE(enabled());
  }
  EXPECT_EQ(enabled(), initial);
}

}  // namespace
}  // namespace grove::model::fused
