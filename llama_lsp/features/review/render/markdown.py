"""A Markdown summary for ``$GITHUB_STEP_SUMMARY`` or a PR comment, including what was skipped."""

from __future__ import annotations

import re

from llama_lsp.features.review.escape import printable
from llama_lsp.features.review.findings import Finding
from llama_lsp.features.review.report import ReviewReport, UnitNote

ICONS = {"error": "🔴 error", "warning": "🟠 warning", "info": "🔵 info"}


def cell(text: str) -> str:
    """Text safe inside a table cell (one line, control characters escaped, pipes escaped)."""
    return printable(" ".join(text.split())).replace("|", "\\|")


def code(text: str) -> str:
    """``text`` as an inline code span that no backtick in it can close (for names)."""
    text = cell(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def findings_table(findings: list[Finding]) -> list[str]:
    """A table of findings."""
    lines = ["| Severity | Location | Rule | Message |", "| --- | --- | --- | --- |"]
    for f in findings:
        where = code(f"{f.path}:{f.line}") + (f"-{f.end_line}" if f.end_line != f.line else "")
        lines.append(f"| {ICONS.get(f.severity, f.severity)} | {where} | {f.rule_id} | "
                     f"{cell(f.message)} |")
    return lines


def _units(notes: list[UnitNote]) -> list[str]:
    return [f"- {code(n.path)} {cell(n.title)} (lines {n.start_line}-{n.end_line}): "
            f"{cell(n.reason)}" for n in notes]


def render(report: ReviewReport) -> str:
    """Headline counts, findings, notes, capped findings, skipped and truncated work."""
    out = ["## llama-lsp review", ""]
    out.append(f"**{len(report.findings)} finding(s)**: {report.count('error')} error, "
               f"{report.count('warning')} warning, {report.count('info')} info. "
               f"{report.units_reviewed} of {report.units_total} unit(s) reviewed "
               f"({report.units_cached} from cache) in {report.files_reviewed} file(s); "
               f"model {cell(report.model) or 'unknown'}.")
    out.append("")
    if report.findings:
        out += findings_table(report.findings) + [""]
    if report.notes:
        out += ["### Notes on unchanged lines", ""] + [
            f"- {code(f'{f.path}:{f.line}')}: {cell(f.message)}" for f in report.notes] + [""]
    if report.capped:
        out += [f"### Over the caps ({len(report.capped)}, not annotated)", ""]
        out += findings_table(report.capped) + [""]
    if report.skipped_files:
        out += [f"### Skipped files ({len(report.skipped_files)})", ""]
        out += [f"- {code(s.path)}: {cell(s.reason)}" for s in report.skipped_files] + [""]
    if report.skipped_units:
        out += [f"### Units not reviewed ({len(report.skipped_units)})", ""]
        out += _units(report.skipped_units) + [""]
    if report.truncated_units:
        out += [f"### Truncated units ({len(report.truncated_units)})", ""]
        out += _units(report.truncated_units) + [""]
    if report.dropped:
        dropped = ", ".join(f"{reason}: {count}" for reason, count in
                            sorted(report.dropped.items()))
        out += [f"Filtered out: {dropped}.", ""]
    return "\n".join(out)


def overflow_section(findings: list[Finding]) -> str:
    """The findings GitHub did not annotate (over its caps), for the step summary."""
    if not findings:
        return ""
    return "\n".join([f"### Not annotated ({len(findings)}, over GitHub's annotation caps)", "",
                      *findings_table(findings), ""]) + "\n"
