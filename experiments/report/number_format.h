// How the report writes numbers: fixed decimals for metrics, compact counts for parameters, "n/a" for a missing
// value (never 0), and "nice" axis ticks (1, 2, 2.5 or 5 times a power of ten) for charts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace grove::experiments::report {

inline constexpr const char* kMissing = "n/a";

// `value` with `decimals` digits after the point; "-0.000" is written "0.000".
std::string format_fixed(double value, int decimals);
// As format_fixed, or "n/a" when missing.
std::string format_fixed(const std::optional<double>& value, int decimals);
// As format_fixed with an explicit sign: "+0.120", "-0.300", "0.000".
std::string format_signed(const std::optional<double>& value, int decimals);
// 1234 -> "1,234"; 12345678 -> "12.3M"; 950000 -> "950.0K"; 3400000000 -> "3.40B"; missing -> "n/a".
std::string format_count(const std::optional<int64_t>& value);
// Exact integer with thousands separators: 12345678 -> "12,345,678".
std::string format_integer(int64_t value);

// About `target` evenly spaced round values covering [lo, hi] (lo < hi): the first tick <= lo, the last >= hi.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
// Decimals needed to write the ticks' step without losing digits (0 for integral steps).
int tick_decimals(const std::vector<double>& ticks);

}  // namespace grove::experiments::report
