"""Post-processing: small pure filters over a candidate completion, applied in ``FILTERS`` order."""

from __future__ import annotations

from collections.abc import Callable

from llama_lsp.features.completion.postprocess.arguments import drop_surplus_arguments
from llama_lsp.features.completion.postprocess.block_end import cut_at_block_end
from llama_lsp.features.completion.postprocess.context import CompletionMode, FilterContext
from llama_lsp.features.completion.postprocess.first_line import keep_first_line
from llama_lsp.features.completion.postprocess.repetition import drop_repetition
from llama_lsp.features.completion.postprocess.suffix_overlap import remove_suffix_overlap
from llama_lsp.features.completion.postprocess.whitespace import limit_lines, normalise_whitespace

Filter = Callable[[str, FilterContext], str]

FILTERS: tuple[Filter, ...] = (
    keep_first_line,
    cut_at_block_end,
    drop_repetition,
    limit_lines,
    drop_surplus_arguments,
    remove_suffix_overlap,
    normalise_whitespace,
)


def postprocess(text: str, context: FilterContext) -> str:
    """Run every filter in order; an empty result means 'no suggestion'."""
    for apply in FILTERS:
        text = apply(text, context)
        if not text:
            return ""
    return text


__all__ = ["FILTERS", "CompletionMode", "FilterContext", "postprocess"]
