"""One renderer per output format; each turns a ReviewReport into text."""

from __future__ import annotations

from collections.abc import Callable

from llama_lsp.features.review.render import (
    github,
    gitlab,
    json_report,
    markdown,
    rdjsonl,
    sarif,
    text,
)
from llama_lsp.features.review.report import ReviewReport

RENDERERS: dict[str, Callable[[ReviewReport], str]] = {
    "text": text.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "rdjsonl": rdjsonl.render,
    "github": github.render,
    "markdown": markdown.render,
    "gitlab": gitlab.render,
}
FORMATS = tuple(RENDERERS)


def render(format_name: str, report: ReviewReport) -> str:
    """The report in ``format_name`` (one of :data:`FORMATS`)."""
    return RENDERERS[format_name](report)
