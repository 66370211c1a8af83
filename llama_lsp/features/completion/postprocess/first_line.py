"""Single-line mode keeps the first line only."""

from llama_lsp.features.completion.postprocess.context import CompletionMode, FilterContext


def keep_first_line(text: str, context: FilterContext) -> str:
    """Cut a single-line completion at its first line break."""
    if context.mode is not CompletionMode.SINGLE_LINE:
        return text
    return text.split("\n", 1)[0].rstrip("\r")
