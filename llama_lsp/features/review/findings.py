"""Findings: parsed from the model's answer, then filtered for precision.

Filters, in order: copies of the prompt's worked example; lines the unit does not show;
ignored categories; the confidence gate;
suppressed messages (default: style nits, docstrings, type hints, import order); anchoring to
added/changed lines (a confident finding elsewhere becomes a file-level note, never an
annotation). Caps per file and per run are applied to the whole report.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from llama_lsp.features.review.config import CONFIDENCES, SEVERITIES, ReviewConfig
from llama_lsp.features.review.prompt import EXAMPLE_MESSAGE, EXAMPLE_QUOTES
from llama_lsp.features.review.units import ReviewUnit

TOOL_NAME = "llama-lsp"


@dataclass(frozen=True)
class Finding:
    """One problem on new-side lines ``line..end_line`` of ``path`` (1-based)."""

    path: str
    line: int
    end_line: int
    severity: str
    category: str
    confidence: str
    message: str
    suggestion: str | None = None
    code: str = ""
    """The normalised source of the finding's lines (for fingerprints)."""
    end_column: int = 1
    """1-based column just past the end of ``end_line``'s text."""

    @property
    def rule_id(self) -> str:
        """Stable rule id: one per category."""
        return f"{TOOL_NAME}/{self.category}"

    def fingerprint(self) -> str:
        """A hash of path, rule and normalised code; never of the model's wording or line number."""
        digest = hashlib.sha256("\x00".join((self.path, self.rule_id, self.code)).encode(
            "utf-8", "surrogatepass"))
        return digest.hexdigest()[:32]


class AnswerError(ValueError):
    """The model's answer is not JSON of the expected shape (e.g. cut off by the token limit)."""


def parse_answer(text: str) -> list[dict[str, object]]:
    """The raw finding objects in the model's answer."""
    try:
        answer = json.loads(text)
    except json.JSONDecodeError as error:
        raise AnswerError(f"the model's answer is not complete JSON ({error.msg})") from error
    findings = answer.get("findings") if isinstance(answer, dict) else None
    if not isinstance(findings, list):
        raise AnswerError("the model's answer has no findings list")
    return [item for item in findings if isinstance(item, dict)]


def normalise_code(lines: list[str]) -> str:
    """Lines with all whitespace collapsed, joined by newlines (blank lines dropped)."""
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())


def _rank(value: str, order: tuple[str, ...]) -> int:
    return order.index(value) if value in order else -1


def severity_rank(severity: str) -> int:
    """2 for error, 1 for warning, 0 for info."""
    return len(SEVERITIES) - 1 - _rank(severity, SEVERITIES)


@dataclass
class UnitOutcome:
    """What one unit's answer became: findings to report, file-level notes, drop counts."""

    findings: list[Finding]
    notes: list[Finding]
    dropped: dict[str, int]


def _finding(unit: ReviewUnit, item: dict[str, object]) -> Finding | None:
    """A Finding from one raw object, or None when its fields are unusable."""
    try:
        line = int(item["line"])  # type: ignore[call-overload]
        end_line = int(item.get("end_line", line))  # type: ignore[call-overload]
        severity, category = str(item["severity"]), str(item["category"])
        confidence, message = str(item["confidence"]), " ".join(str(item["message"]).split())
    except (KeyError, TypeError, ValueError):
        return None
    suggestion = item.get("suggestion")
    return Finding(unit.path, line, max(line, end_line), severity, category, confidence,
                   message, suggestion if isinstance(suggestion, str) and suggestion else None)


def _compact(text: str) -> str:
    return "".join(text.split())


def repeats_example(message: str, unit: ReviewUnit) -> bool:
    """True when ``message`` repeats the prompt's worked example about code that is not there:
    it quotes the example's code (``items[len(items)]``) and the unit holds none of what it
    quotes, or it is the example's message nearly word for word."""
    code = _compact("\n".join([*unit.lines, *(line for c in unit.callees for line in c.lines)]))
    said = _compact(message)
    quoted = [quote for quote in EXAMPLE_QUOTES if _compact(quote) in said]
    if quoted and not any(_compact(quote) in code for quote in quoted):
        return True
    similar = SequenceMatcher(None, message.lower(), EXAMPLE_MESSAGE.lower()).ratio() >= 0.8
    return similar and not any(_compact(quote) in code for quote in EXAMPLE_QUOTES)


def _located(unit: ReviewUnit, finding: Finding, line: int, end_line: int) -> Finding:
    texts = [unit.line_text(number) or "" for number in range(line, end_line + 1)]
    return replace(finding, line=line, end_line=end_line, code=normalise_code(texts),
                   end_column=len(texts[-1]) + 1)


def select(
    unit: ReviewUnit, raw: list[dict[str, object]], added: AbstractSet[int],
    config: ReviewConfig
) -> UnitOutcome:
    """Apply the per-unit precision filters (see the module docstring) to a unit's answer."""
    outcome = UnitOutcome([], [], {})

    def drop(reason: str) -> None:
        outcome.dropped[reason] = outcome.dropped.get(reason, 0) + 1

    suppress = [re.compile(pattern, re.IGNORECASE) for pattern in config.suppress]
    gate = _rank(config.min_confidence, CONFIDENCES)
    for item in raw:
        finding = _finding(unit, item)
        if finding is None or not finding.message:
            drop("malformed")
            continue
        if repeats_example(finding.message, unit):
            drop("repeats the prompt's worked example")
            continue
        if not unit.start_line <= finding.line <= unit.end_line:
            drop("line outside the reviewed code")
            continue
        end_line = min(finding.end_line, unit.end_line)
        if finding.category in config.ignore_categories:
            drop(f"category {finding.category} ignored")
            continue
        if _rank(finding.confidence, CONFIDENCES) < gate:
            drop("below the confidence gate")
            continue
        if any(pattern.search(finding.message) for pattern in suppress):
            drop("suppressed by the do-not-report list")
            continue
        anchored = [n for n in range(finding.line, end_line + 1) if n in added]
        if not anchored:
            if finding.confidence == "high":
                outcome.notes.append(_located(unit, finding, finding.line, end_line))
            else:
                drop("not on an added or changed line")
            continue
        outcome.findings.append(_located(unit, finding, anchored[0], anchored[-1]))
    return outcome


def sort_key(finding: Finding) -> tuple[object, ...]:
    """Most severe and most confident first, then by place."""
    return (-severity_rank(finding.severity), -_rank(finding.confidence, CONFIDENCES),
            finding.path, finding.line, finding.end_line, finding.rule_id, finding.message)


def apply_caps(findings: list[Finding], per_file: int, total: int
               ) -> tuple[list[Finding], list[Finding]]:
    """(kept, over the caps): at most ``per_file`` per file and ``total`` in all, best first.

    Exact duplicates (same place, rule and message) are merged first.
    """
    kept: list[Finding] = []
    capped: list[Finding] = []
    per_path: dict[str, int] = {}
    seen: set[tuple[object, ...]] = set()
    for finding in sorted(findings, key=sort_key):
        key = (finding.path, finding.line, finding.end_line, finding.rule_id, finding.message)
        if key in seen:
            continue
        seen.add(key)
        if per_path.get(finding.path, 0) >= per_file or len(kept) >= total:
            capped.append(finding)
            continue
        per_path[finding.path] = per_path.get(finding.path, 0) + 1
        kept.append(finding)
    kept.sort(key=lambda f: (f.path, f.line, f.end_line, f.rule_id, f.message))
    return kept, capped
