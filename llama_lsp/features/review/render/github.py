"""GitHub Actions workflow commands (``::error file=...,line=...::message``).

Escaping follows @actions/core: data escapes ``%``, CR and LF; property values also ``:`` and
``,``. Other control characters are written as visible escapes first. GitHub shows at most 10 annotations per level per step and 50 in all, so only that many
are written; :func:`overflow` gives the rest for the step summary.
"""

from __future__ import annotations

from llama_lsp.features.review.escape import printable
from llama_lsp.features.review.findings import Finding, sort_key
from llama_lsp.features.review.report import ReviewReport

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}
PER_LEVEL = 10
TOTAL = 50


def escape_data(text: str) -> str:
    """A message as a workflow command's data."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return printable(text)


def escape_property(text: str) -> str:
    """A workflow command's property value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(finding: Finding) -> str:
    """One annotation command."""
    title = f"{finding.rule_id} ({finding.confidence} confidence)"
    properties = ",".join((
        f"file={escape_property(finding.path)}", f"line={finding.line}",
        f"endLine={finding.end_line}", f"title={escape_property(title)}"))
    return f"::{COMMANDS.get(finding.severity, 'warning')} {properties}::" \
           f"{escape_data(finding.message)}"


def split(findings: list[Finding]) -> tuple[list[Finding], list[Finding]]:
    """(annotated, the rest): most severe first, within the per-level and total caps."""
    annotated: list[Finding] = []
    rest: list[Finding] = []
    per_level: dict[str, int] = {}
    for finding in sorted(findings, key=sort_key):
        level = COMMANDS.get(finding.severity, "warning")
        if per_level.get(level, 0) >= PER_LEVEL or len(annotated) >= TOTAL:
            rest.append(finding)
            continue
        per_level[level] = per_level.get(level, 0) + 1
        annotated.append(finding)
    return annotated, rest


def overflow(report: ReviewReport) -> list[Finding]:
    """Findings that are not annotated (they go to the step summary only)."""
    return split(report.findings)[1]


def render(report: ReviewReport) -> str:
    """Annotation commands, plus one plain line saying how many went to the summary only."""
    annotated, rest = split(report.findings)
    lines = [command(f) for f in annotated]
    if rest:
        lines.append(f"llama-lsp: {len(rest)} more finding(s) are only in the step summary")
    return "".join(line + "\n" for line in lines)
