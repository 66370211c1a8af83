"""Never repeat text that already follows the cursor."""

from llama_lsp.features.completion.postprocess.context import CompletionMode, FilterContext

_CLOSING = set(")]}\"'`;,")
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


def _trim_line_overlap(text: str, after: str) -> str:
    after = after.strip()
    if not after:
        return text
    stripped = text.rstrip()
    if after.startswith(stripped.strip()):
        return ""
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
        return _trim_line_overlap(text, context.line_after)
    return _trim_repeated_lines(text, context)
