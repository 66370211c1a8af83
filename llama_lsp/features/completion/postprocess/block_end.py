"""Stop a multi-line completion where the enclosing block ends."""

from llama_lsp.context.scanning import brackets
from llama_lsp.features.completion.postprocess.context import (
    INDENT_LANGUAGES,
    CompletionMode,
    FilterContext,
)

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}


def _indent_width(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _cut_at_dedent(text: str, context: FilterContext) -> str:
    # The block is the one the cursor's line is in once the completion's first line is there:
    # at column 0 the model writes the indentation itself.
    cursor_line = context.line_before + text.split("\n", 1)[0]
    base = _indent_width(cursor_line if cursor_line.strip() else context.base_indent)
    lines = text.split("\n")
    for number, line in enumerate(lines[1:], start=1):
        if line.strip() and _indent_width(line) < base:
            if _closes_prefix_brackets(line, "\n".join(lines[:number])):
                return "\n".join(lines[:number + 1])  # e.g. the `}` of a dict opened above
            return "\n".join(lines[:number])
    return text


def _closes_prefix_brackets(line: str, before: str) -> bool:
    """True when ``line`` is only closing brackets that ``before`` did not open itself."""
    closers = line.strip().rstrip(",;")
    if not closers or any(char not in _CLOSERS for char in closers):
        return False
    opened = sum(before.count(char) for char in _OPENERS)
    closed = sum(before.count(char) for char in _CLOSERS)
    return len(closers) > opened - closed


def _cut_at_unbalanced_closer(text: str, language_id: str) -> str:
    for position, _, depth in brackets(text, language_id):
        if depth < 0:
            line_start = text.rfind("\n", 0, position) + 1
            if not text[line_start:position].strip():
                return text[:line_start].rstrip("\n")
            return text[:position]
    return text


def cut_at_block_end(text: str, context: FilterContext) -> str:
    """Indentation languages: drop from the first line indented less than the cursor's line.

    Brace languages: drop from the first closing bracket that the completion did not open.
    """
    if context.mode is not CompletionMode.MULTI_LINE:
        return text
    if context.language_id in INDENT_LANGUAGES:
        return _cut_at_dedent(text, context)
    return _cut_at_dedent(_cut_at_unbalanced_closer(text, context.language_id), context)
