#include "experiments/report/report_writer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/replaceable_folder.h"
#include "common/utc_time.h"
#include "common/version.h"
#include "experiments/report/evals_csv.h"
#include "experiments/report/html_report.h"
#include "experiments/report/markdown_report.h"
#include "experiments/report/metrics_json.h"
#include "experiments/report/run_data.h"

namespace grove::experiments::report {
namespace fs = std::filesystem;
namespace {

// A temporary folder beside the target, removed (with its content) unless it was published.
class StagingFolder {
 public:
  explicit StagingFolder(const fs::path& final_path) {
    for (int attempt = 0;; ++attempt) {
      path_ = final_path.parent_path() /
              fmt::format(".{}.tmp-{}-{}", final_path.filename().string(), ::getpid(), attempt);
      std::error_code error;
      if (fs::create_directory(path_, error)) return;
      if (error || attempt > 100) {
        throw DataError(fmt::format("report: cannot create a temporary folder beside {}: {}", final_path.string(),
                                    error ? error.message() : "too many leftovers"),
                        ExitCode::kRuntime);
      }
    }
  }
  StagingFolder(const StagingFolder&) = delete;
  StagingFolder& operator=(const StagingFolder&) = delete;
  ~StagingFolder() {
    if (published_) return;
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }
  void publish(const fs::path& final_path) {
    publish_folder(path_, final_path);
    published_ = true;
  }

 private:
  fs::path path_;
  bool published_ = false;
};

const ReplaceableFolder& report_folder() {
  static const ReplaceableFolder kind{"report", "a Grove report", {kReportFiles.begin(), kReportFiles.end()}};
  return kind;
}

}  // namespace

fs::path write_report(registry::Database& db, const ReportRequest& request) {
  if (request.runs.empty()) throw ConfigError("report: no run given; name one or more with --run NAME");
  for (size_t i = 0; i < request.runs.size(); ++i) {
    if (std::find(request.runs.begin(), request.runs.begin() + static_cast<std::ptrdiff_t>(i), request.runs[i]) !=
        request.runs.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw ConfigError(fmt::format("report: run '{}' is named twice in --run", request.runs[i]));
    }
  }
  const fs::path target = normalised_output_folder(request.out_dir, report_folder());
  check_replaceable(target, report_folder());

  std::vector<RunData> runs;
  for (const auto& name : request.runs) {
    log::info("report: reading run '{}'", name);
    runs.push_back(load_run_data(db, name));
  }
  ReportContext context = request.context;
  if (context.generated_at.empty()) context.generated_at = utc_now_iso8601();
  if (context.grove_version.empty()) context.grove_version = kVersion;
  if (context.registry.empty()) context.registry = db.path();

  log::info("report: rendering {} run{}", runs.size(), runs.size() == 1 ? "" : "s");
  const std::string markdown = markdown_report(runs, context);
  const std::string html = html_report(runs, context);
  const std::string metrics =
      metrics_document(runs).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  const std::string csv = evals_csv(runs);

  fs::create_directories(target.parent_path());
  StagingFolder staging(target);
  atomic_write_file(staging.path() / "report.md", markdown);
  atomic_write_file(staging.path() / "report.html", html);
  atomic_write_file(staging.path() / "metrics.json", metrics);
  atomic_write_file(staging.path() / "evals.csv", csv);
  staging.publish(target);
  log::info("report: wrote {} (report.html, report.md, metrics.json, evals.csv)", target.string());
  return target;
}

}  // namespace grove::experiments::report
