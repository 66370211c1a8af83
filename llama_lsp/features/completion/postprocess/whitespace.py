"""Normalise whitespace: no trailing blanks, no whitespace-only results, bounded length."""

from llama_lsp.features.completion.postprocess.context import FilterContext


def limit_lines(text: str, context: FilterContext) -> str:
    """Keep at most ``max_lines`` lines."""
    return "\n".join(text.split("\n")[: context.max_lines])


def normalise_whitespace(text: str, context: FilterContext) -> str:
    """Strip trailing whitespace per line and trailing blank lines; whitespace-only -> ''."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    result = "\n".join(lines)
    return result if result.strip() else ""
