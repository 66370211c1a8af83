"""Drop degenerate loops: the same line over and over."""

from llama_lsp.features.completion.postprocess.context import FilterContext

REPEAT_LIMIT = 3


def drop_repetition(text: str, context: FilterContext) -> str:
    """Cut at the first line that repeats the one before it for the ``REPEAT_LIMIT``-th time."""
    lines = text.split("\n")
    run = 1
    for number in range(1, len(lines)):
        same = lines[number].strip() and lines[number].strip() == lines[number - 1].strip()
        run = run + 1 if same else 1
        if run >= REPEAT_LIMIT:
            return "\n".join(lines[: number - run + 2])
    return text
