"""Never repeat text that already follows the cursor."""

from llama_lsp.context.scanning import QUOTES, state_at_end, walk
from llama_lsp.features.completion.postprocess.context import CompletionMode, FilterContext

_CLOSING = set(")]}\"'`;,:")
_PAIRS = {")": "(", "]": "[", "}": "{"}


def _unmatched_closers(text: str) -> int:
    depth = {opener: 0 for opener in _PAIRS.values()}
    unmatched = 0
    for char in text:
        if char in depth:
            depth[char] += 1
        elif char in _PAIRS:
            if depth[_PAIRS[char]]:
                depth[_PAIRS[char]] -= 1
            else:
                unmatched += 1
    return unmatched


def _cut_where_line_closes(text: str, context: FilterContext, after: str) -> str | None:
    """Where the completion closes the string or bracket that ``after`` closes first.

    ``foo(|)`` with ``x);``, or ``print("|")`` with ``hi" + x)``: the line already has that
    closer, so keep what comes before it. None when the completion closes nothing it did not
    open, or closes something else.
    """
    language_id = context.language_id
    quote = state_at_end(context.line_before, language_id)
    inside_string = quote is not None and quote in QUOTES
    depth = 0
    for position, char, is_code, state in walk(text, language_id, quote if inside_string else None):
        if inside_string:
            if state is None:  # the string the cursor is in ends here (or at the line's end)
                return text[:position] if char == quote == after[0] else None
        elif is_code and char in _PAIRS.values():
            depth += 1
        elif is_code and char in _PAIRS:
            if not depth:
                return text[:position] if char == after[0] else None
            depth -= 1
    return None


def _trim_line_overlap(text: str, context: FilterContext) -> str:
    after = context.line_after.strip()
    if not after:
        return text
    stripped = text.rstrip()
    if after.startswith(stripped.strip()):
        return ""
    cut = _cut_where_line_closes(stripped, context, after)
    if cut is not None:
        return cut
    for size in range(min(len(after), len(stripped)), 0, -1):
        tail = after[:size]
        if not stripped.endswith(tail):
            continue
        only_closers = all(char in _CLOSING for char in tail)
        if only_closers and _unmatched_closers(stripped) >= sum(c in _PAIRS for c in tail):
            return stripped[:-size]
        if not only_closers and size >= 3:
            return stripped[:-size]
    return text


def _trim_repeated_lines(text: str, context: FilterContext) -> str:
    following = [line.strip() for line in context.following_lines if line.strip()]
    if not context.line_before.strip() and context.line_after.strip():
        # The cursor sits before the code of its own line: that code comes next.
        following.insert(0, context.line_after.strip())
    if not following:
        return text
    lines = text.split("\n")
    anchor = following[0]
    if len(anchor) < 2:
        return text
    for number, line in enumerate(lines[1:], start=1):
        if line.strip() == anchor:
            return "\n".join(lines[:number]).rstrip()
    return text


def remove_suffix_overlap(text: str, context: FilterContext) -> str:
    """Trim the end of the completion where it duplicates the rest of the line or next lines."""
    if context.mode is CompletionMode.SINGLE_LINE:
        return _trim_line_overlap(text, context)
    return _trim_repeated_lines(text, context)
