"""``path:line:col: severity: message [rule]``, one per finding, then a one-line summary."""

from __future__ import annotations

from llama_lsp.features.review.escape import line_start, printable
from llama_lsp.features.review.report import ReviewReport


def summary_line(report: ReviewReport) -> str:
    """Counts of findings, units and skips."""
    return (f"{len(report.findings)} finding(s): {report.count('error')} error, "
            f"{report.count('warning')} warning, {report.count('info')} info; "
            f"{report.units_reviewed}/{report.units_total} unit(s) reviewed "
            f"({report.units_cached} cached), {len(report.skipped_files)} file(s) skipped, "
            f"{len(report.skipped_units)} unit(s) not reviewed")


def render(report: ReviewReport) -> str:
    """Compiler-style lines; names and messages escaped (one line each, no runner command)."""
    lines = [f"{line_start(f.path)}:{f.line}:1: {f.severity}: "
             f"{printable(' '.join(f.message.split()))} [{f.rule_id}]" for f in report.findings]
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
