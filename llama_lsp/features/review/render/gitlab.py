"""GitLab Code Quality JSON (a CodeClimate-style array of issues)."""

from __future__ import annotations


from llama_lsp.features.review.escape import json_text
from llama_lsp.features.review.findings import TOOL_NAME
from llama_lsp.features.review.render.common import fingerprints
from llama_lsp.features.review.report import ReviewReport

SEVERITIES = {"error": "critical", "warning": "major", "info": "info"}
CATEGORIES = {"bug": "Bug Risk", "security": "Security", "performance": "Performance",
              "maintainability": "Complexity", "style": "Style"}


def render(report: ReviewReport) -> str:
    """One issue per reported finding; fingerprints are unique within the report."""
    issues = [
        {
            "type": "issue",
            "engine_name": TOOL_NAME,
            "check_name": finding.rule_id,
            "description": finding.message,
            "categories": [CATEGORIES.get(finding.category, "Bug Risk")],
            "severity": SEVERITIES.get(finding.severity, "major"),
            "fingerprint": fingerprint.replace(":", "-"),
            "location": {"path": finding.path,
                         "lines": {"begin": finding.line, "end": finding.end_line}},
        }
        for finding, fingerprint in zip(report.findings, fingerprints(report.findings))
    ]
    return json_text(issues) + "\n"
