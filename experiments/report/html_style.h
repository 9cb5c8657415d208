// The stylesheet inlined into report.html: system fonts only (no web fonts, no network), a readable measure,
// figure cards in a responsive grid, tables with tabular numbers, and print rules so a PDF export looks right.
#pragma once

#include <string_view>

namespace grove::experiments::report {

std::string_view report_css();

}  // namespace grove::experiments::report
