"""The whole report as one JSON document (stable keys, for scripts)."""

from __future__ import annotations

import dataclasses
from statistics import median

from llama_lsp.features.review.escape import json_text
from llama_lsp.features.review.findings import Finding
from llama_lsp.features.review.render.common import VERSION, fingerprints
from llama_lsp.features.review.report import ReviewReport


def _findings(findings: list[Finding]) -> list[dict[str, object]]:
    return [
        {"path": f.path, "line": f.line, "end_line": f.end_line, "severity": f.severity,
         "category": f.category, "rule_id": f.rule_id, "confidence": f.confidence,
         "message": f.message, "suggestion": f.suggestion, "fingerprint": fingerprint}
        for f, fingerprint in zip(findings, fingerprints(findings))
    ]


def render(report: ReviewReport) -> str:
    """Indented JSON with findings, notes, capped findings, skips and counters."""
    document = {
        "tool": {"name": "llama-lsp", "version": VERSION},
        "model": report.model,
        "source": report.source,
        "summary": {
            "findings": len(report.findings),
            "errors": report.count("error"),
            "warnings": report.count("warning"),
            "info": report.count("info"),
            "files_reviewed": report.files_reviewed,
            "units_total": report.units_total,
            "units_reviewed": report.units_reviewed,
            "units_cached": report.units_cached,
            "seconds": round(report.seconds, 2),
            "p50_seconds_per_unit": round(median(report.unit_seconds), 2)
            if report.unit_seconds else None,
        },
        "findings": _findings(report.findings),
        "notes": _findings(report.notes),
        "capped": _findings(report.capped),
        "reviewed_units": [dataclasses.asdict(u) for u in report.reviewed_units],
        "skipped_files": [dataclasses.asdict(s) for s in report.skipped_files],
        "skipped_units": [dataclasses.asdict(u) for u in report.skipped_units],
        "truncated_units": [dataclasses.asdict(u) for u in report.truncated_units],
        "dropped": dict(sorted(report.dropped.items())),
    }
    return json_text(document) + "\n"
