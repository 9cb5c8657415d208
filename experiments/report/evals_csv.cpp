#include "experiments/report/evals_csv.h"

#include <fmt/format.h>

#include "experiments/report/text_escape.h"

namespace grove::experiments::report {
namespace {

template <typename T>
std::string optional_field(const std::optional<T>& value) {
  return value ? fmt::format("{}", *value) : "";
}

}  // namespace

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string evals_csv(const std::vector<RunData>& runs) {
  std::string out = "run,strategy,phase_idx,phase_distribution,eval_distribution,split,stage,bpb,loss,ppl,tokens,bytes\r\n";
  for (const auto& run : runs) {
    for (const auto& e : run.evals) {
      const auto position = run.phase_position(e.after_phase_id);
      const std::string phase_distribution = position ? run.phases[*position].distribution : "";
      out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\r\n", csv_field(sanitize_utf8(run.run.name)),
                         csv_field(sanitize_utf8(run.run.strategy)), e.phase_idx,
                         csv_field(sanitize_utf8(phase_distribution)), csv_field(sanitize_utf8(e.distribution)),
                         csv_field(sanitize_utf8(e.split)), registry::to_text(e.stage), optional_field(e.bpb),
                         optional_field(e.loss), optional_field(e.ppl), optional_field(e.tokens),
                         optional_field(e.bytes));
    }
  }
  return out;
}

}  // namespace grove::experiments::report
