"""The review prompt and the JSON schema the model's answer must follow."""

from __future__ import annotations

import json

from llama_lsp.features.review.config import CATEGORIES, CONFIDENCES, SEVERITIES, ReviewConfig
from llama_lsp.features.review.units import ReviewUnit

PROMPT_VERSION = "review-3"
"""Bumped whenever the prompt or schema changes, so cached answers are not reused."""
MAX_FINDINGS_PER_UNIT = 3
MAX_MESSAGE_CHARS = 160
MAX_SUGGESTION_CHARS = 200


def findings_schema() -> dict[str, object]:
    """The answer: ``{"findings": [...]}``, tight enough to sample quickly under a grammar."""
    finding = {
        "type": "object",
        "properties": {
            "line": {"type": "integer"},
            "end_line": {"type": "integer"},
            "severity": {"enum": list(SEVERITIES)},
            "category": {"enum": list(CATEGORIES)},
            "confidence": {"enum": list(CONFIDENCES)},
            "message": {"type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS},
            "suggestion": {"type": "string", "maxLength": MAX_SUGGESTION_CHARS},
        },
        "required": ["line", "end_line", "severity", "category", "confidence", "message"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "findings": {"type": "array", "maxItems": MAX_FINDINGS_PER_UNIT, "items": finding},
        },
        "required": ["findings"],
        "additionalProperties": False,
    }


def schema_text() -> str:
    """The schema as compact JSON text (the engine caches its grammar by this text)."""
    return json.dumps(findings_schema(), separators=(",", ":"))


def numbered(start: int, lines: tuple[str, ...], changed: frozenset[int] = frozenset()) -> str:
    """``+  12 | code`` for changed lines, ``   12 | code`` for the others."""
    width = len(str(start + len(lines) - 1))
    return "\n".join(
        f"{'+' if start + offset in changed else ' '} {start + offset:>{width}} | {line}"
        for offset, line in enumerate(lines)
    )


_FORMAT = (
    "Answer in JSON: one object per problem with line, end_line, severity (error, warning or "
    "info), category (bug, security, performance, maintainability or style), confidence (low, "
    "medium or high), message (what is wrong and why) and, optionally, suggestion (replacement "
    'code for those lines); {"findings": []} when the change is correct.'
)
_EXAMPLES = """Example change, util.py (python), function first:
  1 | def first(items):
+ 2 |     return items[len(items)]

Answer:
{"findings": [{"line": 2, "end_line": 2, "severity": "error", "category": "bug", \
"confidence": "high", "message": "items[len(items)] is always out of range; the last item is \
items[-1]."}]}

Example change, greet.py (python), function greet:
  1 | def greet(name):
+ 2 |     return "Hello, " + name

Answer:
{"findings": []}"""


def review_prompt(unit: ReviewUnit, config: ReviewConfig) -> str:
    """Instructions and worked examples (a fixed prefix the KV cache reuses across units),
    then same-file callees and the unit's code with new-side line numbers."""
    parts = [
        "You are a careful senior engineer reviewing a code change. Report only real problems "
        "in the changed lines (marked with '+'): bugs, security issues, performance problems, "
        "and maintainability problems that will cause bugs. Give the line number shown at the "
        "left. If nothing is wrong, answer with an empty list.",
    ]
    if config.do_not_report:
        parts.append("Do not report: " + "; ".join(config.do_not_report) + ".")
    if config.instructions.strip():
        parts.append("Project instructions: " + config.instructions.strip())
    parts.append(_FORMAT)
    parts.append(_EXAMPLES)
    for callee in unit.callees:
        parts.append(f"Called from the change, {unit.path} lines {callee.start_line}-"
                     f"{callee.start_line + len(callee.lines) - 1}:\n"
                     + numbered(callee.start_line, callee.lines))
    note = f" ({unit.truncated})" if unit.truncated else ""
    parts.append(f"The change, {unit.path} ({unit.language}), {unit.title}{note}:\n"
                 + numbered(unit.start_line, unit.lines, unit.changed) + "\n\nAnswer:\n")
    return "\n\n".join(parts)
