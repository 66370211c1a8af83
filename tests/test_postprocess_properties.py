"""Properties of the post-processing filters."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from test_scanning import LANGUAGES, PIECES, TEXT

from llama_lsp.features.completion.postprocess import (
    FILTERS,
    CompletionMode,
    FilterContext,
    postprocess,
)
from llama_lsp.features.completion.postprocess.whitespace import normalise_whitespace

_LINE = st.lists(PIECES.filter(lambda p: "\n" not in p), max_size=8).map("".join)


@st.composite
def _contexts(draw: st.DrawFn) -> FilterContext:
    line_after = draw(_LINE)
    return FilterContext(
        mode=draw(st.sampled_from(list(CompletionMode))),
        language_id=draw(st.sampled_from(LANGUAGES)),
        line_before=draw(_LINE),
        line_after=line_after,
        suffix=line_after + draw(st.sampled_from(["", "\n"])) + draw(TEXT),
        max_lines=draw(st.integers(min_value=1, max_value=10)),
    )


@settings(max_examples=400, deadline=None)
@given(TEXT, _contexts())
def test_filters_only_cut_the_end(text: str, context: FilterContext):
    for apply in FILTERS:
        result = apply(text, context)
        assert isinstance(result, str)
        if apply is not normalise_whitespace:
            assert text.startswith(result), apply.__name__


@settings(max_examples=400, deadline=None)
@given(TEXT, _contexts())
def test_postprocess_output_is_normalised(text: str, context: FilterContext):
    result = postprocess(text, context)
    assert normalise_whitespace(result, context) == result
    assert result == "" or result.strip()
    assert "\r\n" not in result
    assert len(result.split("\n")) <= context.max_lines
    if context.mode is CompletionMode.SINGLE_LINE:
        assert "\n" not in result
