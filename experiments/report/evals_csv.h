// evals.csv: one row per evaluation of every run in the report (each phase x each evaluated distribution x split
// x stage), in the spirit of Avalanche's eval CSV, ready for pandas or a spreadsheet. RFC 4180 with CRLF line
// ends (as `grove registry --format csv`); missing values are empty fields, numbers at full precision.
#pragma once

#include <string>
#include <vector>

#include "experiments/report/run_data.h"

namespace grove::experiments::report {

// Header: run,strategy,phase_idx,phase_distribution,eval_distribution,split,stage,bpb,loss,ppl,tokens,bytes
std::string evals_csv(const std::vector<RunData>& runs);

// One RFC 4180 field: quoted (quotes doubled) when it holds a comma, quote, CR or LF.
std::string csv_field(const std::string& text);

}  // namespace grove::experiments::report
