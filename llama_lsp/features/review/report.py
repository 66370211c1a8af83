"""The outcome of a review run: findings, notes, and everything not reviewed with its reason."""

from __future__ import annotations

from dataclasses import dataclass, field

from llama_lsp.features.review.findings import Finding, severity_rank
from llama_lsp.features.review.skips import Skip


@dataclass(frozen=True)
class UnitNote:
    """A unit that was not (fully) reviewed: skipped, truncated, or whose answer was unusable."""

    path: str
    title: str
    start_line: int
    end_line: int
    reason: str


@dataclass
class ReviewReport:
    """Everything the renderers need. Paths are repo-relative with ``/`` separators."""

    model: str = ""
    source: str = ""
    findings: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    """Confident findings on lines the diff did not change: summary only, never annotations."""
    capped: list[Finding] = field(default_factory=list)
    """Findings over the per-file or per-run caps: listed in summaries only."""
    reviewed_units: list[UnitNote] = field(default_factory=list)
    """Units the model answered; ``reason`` says 'reviewed in N s' or 'cached'."""
    skipped_files: list[Skip] = field(default_factory=list)
    skipped_units: list[UnitNote] = field(default_factory=list)
    truncated_units: list[UnitNote] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    files_reviewed: int = 0
    units_total: int = 0
    units_reviewed: int = 0
    units_cached: int = 0
    unit_seconds: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, severity: str) -> int:
        """Reported findings of ``severity``."""
        return sum(1 for finding in self.findings if finding.severity == severity)

    def fails(self, fail_on: str) -> bool:
        """True when a reported finding is at or above ``fail_on`` ('never' never fails)."""
        if fail_on == "never":
            return False
        threshold = severity_rank(fail_on)
        return any(severity_rank(f.severity) >= threshold for f in self.findings)
