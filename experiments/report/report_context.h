// What a report says about itself besides the runs: when it was generated, by which binary, and where the metric
// definitions live (linked from report.md and report.html).
#pragma once

#include <string>

namespace grove::experiments::report {

struct ReportContext {
  std::string generated_at;                     // UTC ISO-8601
  std::string grove_version;
  std::string registry;                         // the registry file the report was read from
  std::string metrics_doc = "docs/METRICS.md";  // link target of the definitions (a path or URL)
};

}  // namespace grove::experiments::report
