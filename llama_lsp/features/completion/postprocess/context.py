"""What every post-processing filter may look at besides the candidate text."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from llama_lsp.context.callee import Parameters


class CompletionMode(str, Enum):
    """One line (mid-line or inside an expression) or several (at an empty block or line)."""

    SINGLE_LINE = "single-line"
    MULTI_LINE = "multi-line"


INDENT_LANGUAGES = frozenset({"python"})


@dataclass(frozen=True)
class FilterContext:
    """The cursor's surroundings, read-only."""

    mode: CompletionMode
    language_id: str
    line_before: str
    line_after: str
    suffix: str
    """Everything after the cursor in the window, starting with ``line_after``."""
    max_lines: int = 8
    callee: Parameters | None = None
    """What the callee of the call open at the cursor accepts, when known for certain."""

    @property
    def base_indent(self) -> str:
        """Indentation the completion starts at."""
        stripped = self.line_before.lstrip(" \t")
        return self.line_before[: len(self.line_before) - len(stripped)]

    @property
    def following_lines(self) -> list[str]:
        """Lines of the suffix after the cursor's line."""
        return self.suffix.split("\n")[1:]
