"""reviewdog's rdjsonl: one Diagnostic JSON object per line (1-based lines and columns)."""

from __future__ import annotations


from llama_lsp.features.review.escape import json_text
from llama_lsp.features.review.findings import TOOL_NAME, Finding
from llama_lsp.features.review.report import ReviewReport

SEVERITIES = {"error": "ERROR", "warning": "WARNING", "info": "INFO"}


def _range(finding: Finding) -> dict[str, dict[str, int]]:
    return {"start": {"line": finding.line, "column": 1},
            "end": {"line": finding.end_line, "column": max(1, finding.end_column)}}


def diagnostic(finding: Finding) -> dict[str, object]:
    """One reviewdog Diagnostic."""
    item: dict[str, object] = {
        "message": finding.message,
        "location": {"path": finding.path, "range": _range(finding)},
        "severity": SEVERITIES.get(finding.severity, "WARNING"),
        "source": {"name": TOOL_NAME},
        "code": {"value": finding.rule_id},
    }
    if finding.suggestion:
        item["suggestions"] = [{"range": _range(finding), "text": finding.suggestion}]
    return item


def render(report: ReviewReport) -> str:
    """Diagnostics, one per line."""
    return "".join(json_text(diagnostic(f), indent=None) + "\n" for f in report.findings)
