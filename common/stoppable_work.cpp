#include "common/stoppable_work.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "common/stop_flag.h"

namespace grove {
namespace {

std::atomic<bool> g_abandoned{false};

constexpr auto kPollInterval = std::chrono::milliseconds(50);

// Shared by the caller and the worker; the worker's copy keeps it alive after an abandonment.
struct WorkState {
  std::mutex mutex;
  std::condition_variable done_changed;
  bool done = false;
  std::exception_ptr error;
};

}  // namespace

void run_stoppable(std::function<void()> work, std::string_view what) {
  if (stop_signal_number() != 0) throw stopped_error(what);
  auto state = std::make_shared<WorkState>();
  std::thread worker([state, work = std::move(work)] {
    std::exception_ptr error;
    try {
      work();
    } catch (...) {
      error = std::current_exception();
    }
    const std::lock_guard lock(state->mutex);
    state->error = error;
    state->done = true;
    state->done_changed.notify_all();
  });
  stop_test_point(what);
  std::unique_lock lock(state->mutex);
  while (!state->done) {
    if (stop_signal_number() != 0) {
      lock.unlock();
      g_abandoned = true;
      worker.detach();
      throw stopped_error(what);
    }
    state->done_changed.wait_for(lock, kPollInterval);
  }
  lock.unlock();
  worker.join();
  if (state->error) std::rethrow_exception(state->error);
}

bool workers_abandoned() { return g_abandoned; }

void exit_process(int code) {
  std::fflush(nullptr);
  std::_Exit(code);
}

}  // namespace grove
