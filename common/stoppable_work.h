// Work that cannot be cancelled from outside (SentencePiece's trainer runs to its end once started) made to honour a
// stop request anyway: it runs on a worker thread while the caller polls the stop flag (common/stop_flag.h). On a
// stop the worker is abandoned, detached and still running, and the caller unwinds at once with InterruptedError, so
// the command records what it must and exits within a poll interval instead of after the work.
// An abandoned worker may only touch what it owns (capture shared_ptrs, never references into the caller's frame),
// and a process that abandoned one must end through exit_process(): returning from main would run static destructors
// (loaded modules, allocators) under the still-running worker.
#pragma once

#include <functional>
#include <string_view>

namespace grove {

// Runs `work` on a worker thread and waits for it, polling the stop flag every 50 ms; rethrows what `work` throws. When
// a stop was requested (before or during the work), abandons the worker and throws stopped_error(what).
void run_stoppable(std::function<void()> work, std::string_view what);

// Whether this process abandoned a worker that may still run.
bool workers_abandoned();

// Ends the process with `code` without running static destructors or atexit handlers (stdio is flushed first): how a
// process that abandoned a worker must end.
[[noreturn]] void exit_process(int code);

}  // namespace grove
