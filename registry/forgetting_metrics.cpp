#include "registry/forgetting_metrics.h"

#include <algorithm>
#include <functional>
#include <stdexcept>

namespace grove::registry {
namespace {

// Builds a metric from term(j) over j in [first, last]: present terms are averaged, absent ones counted missing.
Metric average_terms(size_t n, size_t first, size_t last, const std::function<Cell(size_t)>& term) {
  Metric metric;
  metric.terms.assign(n, std::nullopt);
  double sum = 0.0;
  for (size_t j = first; j <= last && j < n; ++j) {
    metric.terms[j] = term(j);
    if (metric.terms[j]) {
      sum += *metric.terms[j];
      ++metric.used;
    } else {
      ++metric.missing;
    }
  }
  if (metric.used > 0) metric.value = sum / metric.used;
  return metric;
}

Cell difference(const Cell& a, const Cell& b) {
  if (!a || !b) return std::nullopt;
  return *a - *b;
}

void check_shape(const EvalMatrix& m) {
  const size_t n = m.distributions.size();
  bool ok = m.init.size() == n && m.after.size() == n;
  for (const auto& row : m.after) ok = ok && row.size() == n;
  if (!ok) throw std::invalid_argument("compute_forgetting_metrics: the matrix must be n x n with n names and n init cells");
}

}  // namespace

ForgettingMetrics compute_forgetting_metrics(const EvalMatrix& m) {
  check_shape(m);
  ForgettingMetrics out;
  const size_t n = m.distributions.size();
  out.phases = static_cast<int>(n);
  if (n == 0) return out;
  const size_t t = n - 1;
  const auto& r = m.after;
  const size_t none = n;  // an empty range for metrics over j < T when T = 0

  out.acc = average_terms(n, 0, t, [&](size_t j) { return r[t][j]; });
  const size_t last_old = t == 0 ? none : t - 1;
  const size_t first_old = t == 0 ? none : 0;
  out.bwt = average_terms(n, first_old, last_old, [&](size_t j) { return difference(r[j][j], r[t][j]); });
  out.forgetting = average_terms(n, first_old, last_old, [&](size_t j) { return difference(r[t][j], r[j][j]); });
  out.max_forgetting = average_terms(n, first_old, last_old, [&](size_t j) -> Cell {
    Cell best;
    for (size_t l = 0; l < t; ++l) {
      if (r[l][j] && (!best || *r[l][j] < *best)) best = r[l][j];
    }
    return difference(r[t][j], best);
  });
  out.fwt = average_terms(n, t == 0 ? none : 1, t, [&](size_t j) { return difference(m.init[j], r[j - 1][j]); });
  return out;
}

}  // namespace grove::registry
