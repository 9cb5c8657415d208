#include "experiments/report/html_style.h"

namespace grove::experiments::report {

std::string_view report_css() {
  return R"css(
:root { --fg: #1f2328; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa; --accent: #0072b2; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; line-height: 1.5; font-size: 15px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
header.page { background: #0b3d5c; color: #fff; padding: 28px 40px 22px; }
header.page h1 { margin: 0 0 6px; font-size: 28px; font-weight: 650; letter-spacing: -0.01em; }
header.page p { margin: 2px 0; color: #d6e6f2; font-size: 14px; }
header.page a { color: #fff; }
nav.toc { position: sticky; top: 0; z-index: 2; background: rgba(255,255,255,.96); border-bottom: 1px solid var(--line);
  padding: 8px 40px; font-size: 14px; display: flex; flex-wrap: wrap; gap: 4px 18px; }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
main { max-width: 1320px; margin: 0 auto; padding: 8px 40px 60px; }
section.block { border-top: 3px solid var(--fg); margin-top: 36px; padding-top: 6px; }
h2 { font-size: 23px; margin: 8px 0 4px; }
h3 { font-size: 18px; margin: 28px 0 6px; }
p.lead, p.note { color: var(--muted); margin: 4px 0 12px; max-width: 980px; }
.badge { display: inline-block; font-size: 13px; font-weight: 600; padding: 1px 9px; border-radius: 999px;
  border: 1px solid var(--line); background: var(--soft); color: var(--fg); vertical-align: middle; margin-left: 6px; }
.badge.done { background: #dafbe1; border-color: #4ac26b; }
.badge.failed, .badge.interrupted { background: #ffebe9; border-color: #ff8182; }
.badge.running, .badge.pending { background: #fff8c5; border-color: #d4a72c; }
.name { overflow-wrap: anywhere; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; margin: 14px 0 6px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: #fff; }
.card .label { font-size: 13px; color: var(--muted); }
.card .label a { color: inherit; }
.card .value { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; line-height: 1.25; }
.card .hint { font-size: 12px; color: var(--muted); }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 18px; align-items: start; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px 10px; background: #fff;
  box-shadow: 0 1px 2px rgba(31,35,40,.06); overflow-x: auto; }
figure.wide { grid-column: 1 / -1; }
figure > .title { font-weight: 650; font-size: 15px; margin-bottom: 6px; }
figure svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 8px; max-width: 900px; }
.table-wrap { overflow-x: auto; margin: 6px 0 12px; }
table { border-collapse: collapse; font-size: 14px; min-width: 40%; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 12px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.reason { max-width: 520px; white-space: pre-wrap; overflow-wrap: anywhere; }
tbody tr:nth-child(even) td { background: #fbfcfd; }
td.na { color: #8c959f; }
details { margin: 8px 0 14px; }
summary { cursor: pointer; color: var(--accent); font-size: 14px; }
dl.definitions dt { font-weight: 650; margin-top: 10px; }
dl.definitions dd { margin: 2px 0 0 0; color: var(--fg); }
code, .formula { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13.5px;
  background: var(--soft); padding: 1px 5px; border-radius: 4px; }
footer { color: var(--muted); font-size: 13px; text-align: center; padding: 24px; border-top: 1px solid var(--line); }
@media (max-width: 700px) { main, nav.toc, header.page { padding-left: 14px; padding-right: 14px; }
  .grid { grid-template-columns: 1fr; } }
@media print { nav.toc { display: none; } figure, table { break-inside: avoid; } header.page { background: #fff;
  color: var(--fg); } header.page p { color: var(--muted); } }
)css";
}

}  // namespace grove::experiments::report
