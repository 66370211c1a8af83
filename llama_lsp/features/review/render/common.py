"""Helpers shared by renderers: fingerprints with occurrence counts, rule descriptions."""

from __future__ import annotations

from llama_lsp import __version__
from llama_lsp.features.review.findings import TOOL_NAME, Finding

VERSION = __version__
RULES: dict[str, str] = {
    "bug": "Likely bug: wrong result, crash or unhandled case in changed code.",
    "security": "Security problem: injection, unsafe input handling, secrets, unsafe APIs.",
    "performance": "Performance problem: needless work, quadratic loops, blocking calls.",
    "maintainability": "Maintainability problem likely to cause bugs later.",
    "style": "Style problem.",
}


def rule_ids() -> list[str]:
    """Every rule id, in a fixed order."""
    return [f"{TOOL_NAME}/{category}" for category in RULES]


def fingerprints(findings: list[Finding]) -> list[str]:
    """``<hash>:<n>``: the n-th finding with that hash in report order (as GitHub expects)."""
    seen: dict[str, int] = {}
    out = []
    for finding in findings:
        value = finding.fingerprint()
        seen[value] = seen.get(value, 0) + 1
        out.append(f"{value}:{seen[value]}")
    return out
