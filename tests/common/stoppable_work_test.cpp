// Work that cannot be cancelled still lets a stop request through: the caller leaves it behind at once with
// InterruptedError, the work runs on to its end on what it owns, and without a stop the work's result and its errors
// reach the caller as if it ran there.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <stdexcept>
#include <thread>

#include "common/stop_flag.h"
#include "common/stoppable_work.h"

namespace grove {
namespace {

TEST(StoppableWork, WithoutAStopTheWorkRunsToItsEndAndItsErrorReachesTheCaller) {
  int result = 0;
  run_stoppable([&] { result = 42; }, "counting");
  EXPECT_EQ(result, 42);
  EXPECT_THROW(run_stoppable([] { throw std::runtime_error("broken"); }, "breaking"), std::runtime_error);
  EXPECT_FALSE(workers_abandoned());
}

TEST(StoppableWork, AStopLeavesTheWorkBehindAtOnceWithAnInterruptedErrorAndTheWorkRunsOn) {
  // The work waits for a release that only comes after the caller was let go: a caller waiting for the work would
  // never return.
  struct Shared {
    std::atomic<bool> release{false};
    std::atomic<bool> finished{false};
  };
  auto shared = std::make_shared<Shared>();
  std::thread stopper([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    note_stop_signal(SIGTERM);
  });
  const auto started = std::chrono::steady_clock::now();
  try {
    run_stoppable(
        [shared] {
          while (!shared->release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
          shared->finished = true;
        },
        "endless work");
    ADD_FAILURE() << "no InterruptedError";
  } catch (const InterruptedError& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kTerminated);
    EXPECT_NE(std::string(e.what()).find("endless work stopped by SIGTERM before it finished"), std::string::npos)
        << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  stopper.join();
  EXPECT_TRUE(workers_abandoned());
  EXPECT_FALSE(shared->finished) << "left behind, not waited for";
  shared->release = true;  // let it end before the test process does
  while (!shared->finished) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  // A stop already requested refuses to start more work.
  bool ran = false;
  EXPECT_THROW(run_stoppable([&] { ran = true; }, "more work"), InterruptedError);
  EXPECT_FALSE(ran);
  note_stop_signal(0);
}

}  // namespace
}  // namespace grove
