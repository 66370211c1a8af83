"""Stop a multi-line completion where the enclosing block ends."""

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
    base = _indent_width(context.base_indent)
    lines = text.split("\n")
    for number, line in enumerate(lines[1:], start=1):
        if line.strip() and _indent_width(line) < base:
            return "\n".join(lines[:number])
    return text


def _cut_at_unbalanced_closer(text: str) -> str:
    depth = 0
    quote: str | None = None
    previous = ""
    for position, char in enumerate(text):
        if quote:
            if char == quote and previous != "\\":
                quote = None
        elif char in "\"'`":
            quote = char
        elif char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth -= 1
            if depth < 0:
                line_start = text.rfind("\n", 0, position) + 1
                if not text[line_start:position].strip():
                    return text[:line_start].rstrip("\n")
                return text[:position]
        elif char == "\n":
            quote = None
        previous = char
    return text


def cut_at_block_end(text: str, context: FilterContext) -> str:
    """Indentation languages: drop from the first line indented less than the cursor's line.

    Brace languages: drop from the first closing bracket that the completion did not open.
    """
    if context.mode is not CompletionMode.MULTI_LINE:
        return text
    if context.language_id in INDENT_LANGUAGES:
        return _cut_at_dedent(text, context)
    return _cut_at_dedent(_cut_at_unbalanced_closer(text), context)
