"""SARIF 2.1.0 as GitHub code scanning accepts it.

Stable rule ids (one per category), repo-relative percent-encoded URIs, regions with lines and
columns, and ``partialFingerprints.primaryLocationLineHash`` from path + rule + normalised code.
"""

from __future__ import annotations

from urllib.parse import quote

from llama_lsp.features.review.escape import json_text
from llama_lsp.features.review.findings import TOOL_NAME, Finding
from llama_lsp.features.review.render.common import RULES, VERSION, fingerprints, rule_ids
from llama_lsp.features.review.report import ReviewReport

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def artifact_uri(path: str) -> str:
    """A relative URI reference for a repo-relative path (non-ASCII and spaces encoded)."""
    return quote(path.replace("\\", "/"), safe="/")


def _region(finding: Finding) -> dict[str, int]:
    return {"startLine": finding.line, "startColumn": 1, "endLine": finding.end_line,
            "endColumn": max(1, finding.end_column)}


def _rules() -> list[dict[str, object]]:
    return [
        {
            "id": rule_id,
            "name": category.capitalize(),
            "shortDescription": {"text": f"{category} (llama-lsp review)"},
            "fullDescription": {"text": description},
            "defaultConfiguration": {"level": "warning"},
            "properties": {"tags": [category]},
        }
        for rule_id, (category, description) in zip(rule_ids(), RULES.items())
    ]


def _result(finding: Finding, fingerprint: str, index: int) -> dict[str, object]:
    location = {"physicalLocation": {
        "artifactLocation": {"uri": artifact_uri(finding.path), "uriBaseId": "%SRCROOT%"},
        "region": _region(finding),
    }}
    result: dict[str, object] = {
        "ruleId": finding.rule_id,
        "ruleIndex": index,
        "level": LEVELS.get(finding.severity, "warning"),
        "message": {"text": finding.message},
        "locations": [location],
        "partialFingerprints": {"primaryLocationLineHash": fingerprint},
        "properties": {"confidence": finding.confidence, "category": finding.category},
    }
    if finding.suggestion:
        result["fixes"] = [{
            "description": {"text": "Suggested replacement"},
            "artifactChanges": [{
                "artifactLocation": {"uri": artifact_uri(finding.path), "uriBaseId": "%SRCROOT%"},
                "replacements": [{"deletedRegion": _region(finding),
                                  "insertedContent": {"text": finding.suggestion}}],
            }],
        }]
    return result


def render(report: ReviewReport) -> str:
    """One run with the driver's rules and one result per reported finding."""
    ids = rule_ids()
    results = [
        _result(finding, fingerprint, ids.index(finding.rule_id) if finding.rule_id in ids else 0)
        for finding, fingerprint in zip(report.findings, fingerprints(report.findings))
    ]
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL_NAME, "version": VERSION,
                                "semanticVersion": VERSION, "rules": _rules()}},
            "invocations": [{"executionSuccessful": True}],
            "results": results,
            "properties": {"model": report.model, "unitsReviewed": report.units_reviewed,
                           "unitsNotReviewed": len(report.skipped_units),
                           "filesSkipped": len(report.skipped_files)},
        }],
    }
    return json_text(log) + "\n"
